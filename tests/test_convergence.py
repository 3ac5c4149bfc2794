"""Fault convergence: whatever fails during a first apply, running again ends where a clean apply does.

Each case seeds a fresh double, injects faults into the first apply of the real program
(real provider host, concurrent steps), re-runs from the state that apply saved, and checks:

- the account equals a clean apply's (``tests.harness.invariants.normalised``: numbers, flows by
  name and definition, Serverless service, assets and what the environment serves by path,
  TaskRouter by name), and a third run makes no write and changes nothing;
- no name is used twice where it must be unique (no duplicate from a repeated create);
- no DELETE reached a number (also enforced by the double's fixture);
- after every write the double applied, in every run, each number's voice URL and fallback
  pointed at a flow or document that existed and was deployed (``EntryWatcher``).

Faults: for each resource kind (by the Twilio host its provider talks to), a 429 burst, 5xx
and a read timeout on reads (retried), a connection reset on a write before Twilio processed
it, and a timeout on a write Twilio did process. Then a kill at every write position of the
full apply: the Nth write fails with a 500 and is not applied, or is applied and the client
never hears (connection reset) - the cases a re-run must tell apart by looking things up.

The sweep uses a small file with every resource kind (< 3 min in all on 2 cores);
``CONVERGENCE=long`` adds the same sweep over the shipped lines.yaml (85 writes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.lines.load import load_bytes
from infra.model import LinesConfig
from infra.program import StackSettings
from tests.harness.engine import EngineError
from tests.harness.invariants import EntryWatcher, duplicate_names, entry_problems, normalised
from tests.harness.program_engine import ProgramEngine
from tests.twilio_double import TwilioDouble

ROOT = Path(__file__).resolve().parent.parent
LEGACY = "https://legacy-pbx.acme.example/voice/"
SMALL = """\
version: 1
account: {name: acme}
alerts: {webhook: "https://hooks.acme.example/failover"}
agents:
  - {id: alice, name: Alice Ng, phone: "+14155550111"}
lines:
  - id: main
    type: main_line
    number: "+14155550100"
    primary: https://voice.acme.example/main
    failover: {forward: "+14155550199"}
    queue: {agents: [alice], timeout: 120}
  - id: gus
    type: user
    number: "+14155550108"
    primary: https://voice.acme.example/users/gus
    test: true
    failover:
      voicemail: {greeting: "Hej, this is Gus."}
"""
"""Every resource kind: ledger, Serverless environments (shared documents + Functions, forward
and queue documents), a call queue, and a batch of numbers, one of them in test mode
(alerts.webhook no longer deploys anything: alerts come from `failover status --notify`)."""
SMALL_WRITES = 39
SHIPPED_WRITES = 85
LONG = os.environ.get("CONVERGENCE") == "long"
HTTP_TIMEOUT_S = 1.0
HANG_S = 3.0  # longer than the client's timeout: the client gives up first
SETTINGS = StackSettings(stack="dev")


def config_of(text: str) -> LinesConfig:
    config, _ = load_bytes(text.encode(), "lines.yaml")
    return config


@dataclass
class Clean:
    state: dict[str, Any]
    writes: int


def seed(double: TwilioDouble, config: LinesConfig) -> None:
    for line in config.lines:
        double.seed_number(line.number, voice_url=LEGACY + line.id, friendly_name=line.id)


def engine_for(double: TwilioDouble, timeout_s: float | None = None) -> ProgramEngine:
    engine = ProgramEngine.for_double(double)
    if timeout_s is not None:
        engine.engine.config["twilio:httpTimeout"] = timeout_s
    return engine


def clean_apply(text: str, spec_dir: Path) -> Clean:
    config = config_of(text)
    with TwilioDouble(spec_dir=spec_dir) as double:
        seed(double, config)
        watcher = EntryWatcher()
        double.on_write(watcher)
        engine_for(double).up(config, SETTINGS)
        assert watcher.problems == [], watcher.problems
        assert duplicate_names(double.state) == []
        return Clean(normalised(double.state), sum(double.writes().values()))


@pytest.fixture(scope="module")
def clean_small(twilio_spec_dir: Path) -> Clean:
    clean = clean_apply(SMALL, twilio_spec_dir)
    assert clean.writes == SMALL_WRITES, "the small file's write count changed: update SMALL_WRITES"
    return clean


@pytest.fixture(scope="module")
def clean_shipped(twilio_spec_dir: Path) -> Clean:
    clean = clean_apply((ROOT / "lines.yaml").read_text(), twilio_spec_dir)
    assert clean.writes == SHIPPED_WRITES, "lines.yaml's write count changed: update SHIPPED_WRITES"
    return clean


@pytest.fixture
def watcher(twilio_double: TwilioDouble) -> Iterator[EntryWatcher]:
    w = EntryWatcher()
    twilio_double.on_write(w)
    yield w


def converge(
    double: TwilioDouble,
    watcher: EntryWatcher,
    clean: Clean,
    text: str,
    *,
    first_fails: bool | None,
    timeout_s: float | None = None,
) -> None:
    """First apply under the faults already added, then re-run; assert the invariants."""
    config = config_of(text)
    seed(double, config)
    engine = engine_for(double, timeout_s)
    state: dict[str, Any] = {}
    error: EngineError | None = None
    try:
        state = engine.up(config, SETTINGS).state
    except EngineError as exc:
        state, error = exc.state, exc
    if first_fails is not None:
        assert (error is not None) is first_fails, double.explain()
    fired = [f for f in double.faults.active() if f.fired]
    assert fired, f"the fault never fired; first apply: {error!r}"
    double.faults.clear()
    state = engine.up(config, SETTINGS, state).state
    assert duplicate_names(double.state) == []
    assert normalised(double.state) == clean.state, (
        _difference(normalised(double.state), clean.state, error)
        + "\n"
        + "\n".join(
            f"  {r.method} {r.path} {r.form} -> {r.status} {r.kind}"
            for r in double.requests
            if r.host == "taskrouter.twilio.com" and r.method == "POST"
        )
    )
    before = sum(double.writes().values())
    again = engine.up(config, SETTINGS, state)
    assert again.changed == [] and sum(double.writes().values()) == before
    assert watcher.problems == []
    assert double.deletes_of_numbers() == []


def _difference(got: dict[str, Any], want: dict[str, Any], error: Exception | None) -> str:
    """Only the records that differ, table by table, and how the first apply failed."""
    lines = [f"first apply: {error!r}"]
    for table in sorted(set(got) | set(want)):
        a, b = got.get(table, {}), want.get(table, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                lines.append(f"{table}[{key}]: got {a.get(key)!r}, clean apply {b.get(key)!r}")
    return "\n".join(lines)


def test_the_watcher_sees_a_number_pointed_at_a_missing_flow_or_document(
    twilio_double: TwilioDouble,
) -> None:
    """The oracle itself: it flags both kinds of dangling entry and ignores customer URLs."""
    number = twilio_double.seed_number("+14155550100", voice_url=LEGACY + "x")
    assert entry_problems(twilio_double.state) == []
    flow = f"https://webhooks.twilio.com/v1/Accounts/{twilio_double.account_sid}/Flows/FW{'0' * 32}"
    twilio_double.edit_number(number["sid"], voice_fallback_url=flow)
    assert entry_problems(twilio_double.state) == [
        f"+14155550100 voice_fallback_url={flow}: no such Studio flow"
    ]
    twilio_double.edit_number(number["sid"], voice_url="https://acme-1234-failover.twil.io/a.xml")
    assert "no such Serverless environment" in entry_problems(twilio_double.state)[0]


# -- faults by resource kind ----------------------------------------------------------------

HOSTS = {
    "documents": "serverless.twilio.com",
    "uploads": "serverless-upload.twilio.com",
    "call-queue": "taskrouter.twilio.com",
    # no "flows": no stack deploys a Studio flow since alerts left the caller's path
    "numbers": "api.twilio.com",
}
FAULTS: dict[str, tuple[str, dict[str, Any], bool]] = {
    # name: (methods matched, fault, whether the first apply fails)
    "429-burst": ("", {"status": 429, "retry_after": 0.05, "times": 4}, False),
    "5xx-reads": ("GET", {"status": 503, "times": 2}, False),
    "timeout-read": ("GET", {"hang": HANG_S, "times": 1}, False),
    "reset-write-unapplied": ("POST", {"reset": True, "times": 1}, True),
    "timeout-write-applied": ("POST", {"hang": HANG_S, "times": 1, "applied": True}, True),
}
CASES = [
    pytest.param(host, method, fault, fails, id=f"{kind}-{name}")
    for kind, host in HOSTS.items()
    for name, (method, fault, fails) in FAULTS.items()
    if not (kind == "uploads" and method == "GET")  # the upload host takes POSTs only
]


# Seen failing once (flows-reset-write-unapplied) in 6 full-suite runs on a loaded 2-core
# machine. Probable cause, found and fixed on 2026-12-02: a provider host ended mid-request
# left a truncated POST that the double applied as an empty form (a nameless activity or task
# queue); the double now drops truncated requests, as HTTP servers do. The one rerun stays
# until full runs confirm it: a rerun shows as "R" in the summary, never silently.
@pytest.mark.flaky(reruns=1)
@pytest.mark.parametrize(("host", "method", "fault", "fails"), CASES)
def test_fault_on_a_resource_kind_converges(
    twilio_double: TwilioDouble,
    watcher: EntryWatcher,
    clean_small: Clean,
    host: str,
    method: str,
    fault: dict[str, Any],
    fails: bool,
) -> None:
    twilio_double.faults.add(match=f"{method} {host}".strip(), **fault)
    timeout = HTTP_TIMEOUT_S if "hang" in fault else None
    converge(twilio_double, watcher, clean_small, SMALL, first_fails=fails, timeout_s=timeout)


# -- a kill at every write position -----------------------------------------------------------

VARIANTS = {
    "500-not-applied": {"status": 500},
    "applied-unheard": {"reset": True, "applied": True},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("nth", range(1, SMALL_WRITES + 1))
def test_kill_at_every_write_of_a_first_apply_converges(
    twilio_double: TwilioDouble, watcher: EntryWatcher, clean_small: Clean, nth: int, variant: str
) -> None:
    twilio_double.faults.add(fail_nth_write=nth, **VARIANTS[variant])
    converge(twilio_double, watcher, clean_small, SMALL, first_fails=True)


@pytest.mark.skipif(not LONG, reason="set CONVERGENCE=long for the sweep over lines.yaml")
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("nth", range(1, SHIPPED_WRITES + 1))
def test_kill_at_every_write_of_the_shipped_file_converges(
    twilio_double: TwilioDouble, watcher: EntryWatcher, clean_shipped: Clean, nth: int, variant: str
) -> None:
    twilio_double.faults.add(fail_nth_write=nth, **VARIANTS[variant])
    text = (ROOT / "lines.yaml").read_text()
    converge(twilio_double, watcher, clean_shipped, text, first_fails=True)
