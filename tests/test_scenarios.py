"""Multi-run scenarios: the real program, the real provider host, the contract-checked double.

Each test applies the shipped lines.yaml (or an edit of it) several times, as a team would
with ``pulumi up``, and counts exactly what reached Twilio. The double's fixture fails any
test whose traffic broke Twilio's OpenAPI contract or released a number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.lines.load import load_bytes
from infra.model import LinesConfig, Severity
from infra.naming import number_batch
from infra.program import StackSettings
from tests.harness.engine import EngineError
from tests.harness.program_engine import ProgramEngine, Run

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "lines.yaml").read_text()
LEGACY = "https://legacy-pbx.acme.example/voice/"


def lines(text: str = SHIPPED) -> LinesConfig:
    config, _ = load_bytes(text.encode(), "lines.yaml")
    return config


def seed_account(double: Any, config: LinesConfig) -> None:
    """The account as a team has it before adopting the tool: numbers with their own voice URLs."""
    for line in config.lines:
        double.seed_number(line.number, voice_url=LEGACY + line.id, friendly_name=line.display_name)


class Stack:
    """One stack applied run after run; ``writes`` of the last run come from the double."""

    def __init__(self, double: Any) -> None:
        self.double = double
        self.engine = ProgramEngine.for_double(double)
        self.state: dict[str, Any] = {}
        self.writes: Counter[str] = Counter()

    def up(self, config: LinesConfig, **settings: Any) -> Run:
        before = Counter(self.double.writes())
        try:
            run = self.engine.up(config, StackSettings(stack="dev", **settings), self.state)
        finally:
            self.writes = Counter(self.double.writes()) - before
        self.state = run.state
        return run


@pytest.fixture
def stack(twilio_double: Any) -> Stack:
    seed_account(twilio_double, lines())
    return Stack(twilio_double)


def number(double: Any, e164: str) -> dict[str, Any]:
    (record,) = [n for n in double.state.numbers.values() if n["phone_number"] == e164]
    return record


def document(double: Any, env: str, path: str) -> str:
    """URL of a TwiML document as served by the double's environment ``env``."""
    (domain,) = [
        e["domain_name"] for e in double.state.environments.values() if e["unique_name"] == env
    ]
    return f"https://{domain}{path}"


def served(double: Any) -> set[str]:
    """Every URL a deployed environment serves: its live build's asset paths on its domain."""
    urls = set()
    for env in double.state.environments.values():
        build = double.state.builds.get(env.get("build_sid") or "")
        for version in (build or {}).get("asset_versions") or []:
            urls.add(f"https://{env['domain_name']}{version['path']}")
    return urls


def edited(old: str, new: str, text: str = SHIPPED) -> str:
    assert old in text, old
    return text.replace(old, new)


def test_first_run_creates_everything_and_points_each_number_at_a_live_entry(stack: Stack) -> None:
    config = lines()
    run = stack.up(config)
    assert {kind for kind, _ in run.changed} == {"create"}
    assert run.kinds("create").count("documents-shared") == 1
    assert stack.double.state.flows == {}  # no alerts.webhook: no Studio
    live = served(stack.double)
    for line in config.lines:
        record = number(stack.double, line.number)
        fallback = record["voice_fallback_url"]
        assert fallback == run.outputs["lines"][line.id]
        if line.url is not None:
            assert (fallback, record["voice_fallback_method"]) == (line.url, "POST")
        else:
            assert fallback in live, (line.id, fallback)
            assert record["voice_fallback_method"] == "GET"
    assert number(stack.double, "+14155550101")["voice_url"] == "https://voice.acme.example/sales"
    assert (
        number(stack.double, "+14155550107")["voice_url"] == LEGACY + "fay"
    )  # no primary: untouched
    assert stack.writes["IncomingPhoneNumber.update"] == len(config.lines)


def test_eli_in_test_mode_has_its_primary_on_the_failover(stack: Stack) -> None:
    stack.up(lines())
    eli = number(stack.double, "+14155550106")
    assert eli["voice_url"] == eli["voice_fallback_url"]


def test_second_run_with_the_same_file_makes_zero_writes(stack: Stack) -> None:
    stack.up(lines())
    run = stack.up(lines())
    assert run.changed == []
    assert sum(stack.writes.values()) == 0


def test_one_greeting_change_is_one_upload_one_build_one_deployment(stack: Stack) -> None:
    """The default greeting lives at a stable path (``/v/default.xml``): a new one is that one
    document, in the shared environment; no number and no forwarding document changes."""
    stack.up(lines())
    run = stack.up(lines(edited("No one is available", "Nobody is available")))
    assert run.changed == [("update", "documents-shared")]
    assert dict(stack.writes) == {
        "AssetVersion.create": 1,
        "Build.create": 1,
        "Deployment.create": 1,
    }


def test_an_override_greeting_change_rebuilds_its_document_and_that_forward_only(
    stack: Stack,
) -> None:
    """Gus's own greeting is content-addressed: the new voicemail document goes into ``shared``
    and his forwarding document, which redirects to it, is rebuilt; his number stays put."""
    stack.up(lines())
    before = number(stack.double, "+14155550108")["voice_fallback_url"]
    run = stack.up(lines(edited("Hej, this is Gus.", "Hi, this is Gus.")))
    assert run.changed == [("update", "documents-shared"), ("update", "documents-fwd-03")]
    assert dict(stack.writes) == {
        "Asset.create": 1,  # the new greeting's content-addressed path
        "AssetVersion.create": 2,
        "Build.create": 2,
        "Deployment.create": 2,
    }
    assert number(stack.double, "+14155550108")["voice_fallback_url"] == before


def test_one_forward_number_change_updates_exactly_one_document(stack: Stack) -> None:
    stack.up(lines())
    run = stack.up(lines(edited('forward: "+14155550188"', 'forward: "+14155550177"')))
    assert run.changed == [
        ("update", "lines"),
        ("update", "documents-fwd-00"),
    ]  # ledger (state only) + the environment holding /f/sales.xml
    assert dict(stack.writes) == {
        "AssetVersion.create": 1,
        "Build.create": 1,
        "Deployment.create": 1,
    }


def test_severe_switches_only_the_shared_lines_with_a_queue(stack: Stack) -> None:
    stack.up(lines())
    run = stack.up(lines(), severity=Severity.SEVERE)
    assert run.changed == sorted(("update", number_batch(i)) for i in ("main", "support"))
    assert dict(stack.writes) == {"IncomingPhoneNumber.update": 2}
    for line_id, e164 in (("main", "+14155550100"), ("support", "+14155550103")):
        queue_entry = document(stack.double, "queues", f"/q/{line_id}.xml")
        assert number(stack.double, e164)["voice_fallback_url"] == queue_entry


def _without_line(line_id: str, text: str = SHIPPED) -> str:
    start = text.index(f"  - id: {line_id}\n")
    end = text.find("\n  - id: ", start + 1)
    return text[:start] + (text[end + 1 :] if end != -1 else "")


def test_removing_a_line_needs_consent_then_restores_and_releases_nothing(stack: Stack) -> None:
    stack.up(lines())
    before = number(stack.double, "+14155550107")
    assert before["voice_fallback_url"]
    with pytest.raises(
        EngineError, match="safety brake: 1 line.s. removed .fay.*failover:allowRemovals=true"
    ):
        stack.up(lines(_without_line("fay")))
    assert sum(stack.writes.values()) == 0
    run = stack.up(lines(_without_line("fay")), allow_removals=True)
    assert ("update", number_batch("fay")) in run.changed  # fay leaves her batch
    assert "fay" not in run.outputs["lines"]
    fay = number(stack.double, "+14155550107")
    assert fay["voice_fallback_url"] in (None, "")  # restored to what it was before adoption
    assert fay["voice_url"] == LEGACY + "fay"
    assert stack.double.deletes_of_numbers() == []


def _company(count: int, forward: str) -> str:
    rows = "\n".join(
        f'  - {{id: l{i}, type: department, number: "+1415555{i:04d}", failover: {{forward: "{forward}"}}}}'
        for i in range(count)
    )
    return f"version: 1\naccount: {{name: acme}}\nlines:\n{rows}\n"


def test_safety_brake_trips_on_a_mass_change_before_any_write(twilio_double: Any) -> None:
    stack = Stack(twilio_double)
    seed_account(twilio_double, lines(_company(12, "+16285550100")))
    stack.up(lines(_company(12, "+16285550100")))
    mass = lines(_company(12, "+16285550199"))
    with pytest.raises(
        EngineError, match=r"12 of 12 lines \(100%\) change their failover.*failover:force=true"
    ):
        stack.up(mass)
    assert sum(stack.writes.values()) == 0
    stack.up(mass, force=True)
    assert stack.writes["AssetVersion.create"] == 12  # each line's forwarding document
    assert stack.writes["IncomingPhoneNumber.update"] == 0  # entries stay where they are


def test_no_run_ever_released_a_number(stack: Stack) -> None:
    scenarios: list[Callable[[], Run]] = [
        lambda: stack.up(lines()),
        lambda: stack.up(lines(), severity=Severity.SEVERE),
        lambda: stack.up(lines(_without_line("press")), allow_removals=True),
    ]
    for scenario in scenarios:
        scenario()
    assert not [
        r
        for r in stack.double.requests
        if r.method == "DELETE" and "IncomingPhoneNumbers" in r.path
    ]
