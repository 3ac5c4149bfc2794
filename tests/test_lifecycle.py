"""Pulumi lifecycle (issue 16, items 2, 5 and 6): drift repaired by the next ``up``, previews
without Twilio credentials, and one credential story for the program, providers and CLI.

- Refresh: Pulumi.yaml sets ``options.refresh: always`` (and deploy.yml runs ``pulumi up
  --refresh``), so every ``up`` reads each resource first; the engine model's ``up(...,
  refresh=True)`` does the same through the real provider host against the double.
- Preview: the program checks credentials only outside a dry run, and no provider's check or
  diff calls Twilio, so a preview needs none (the pull-request workflow passes none).
- Credentials: ``infra.stack.twilio_settings`` is the one rule; the program reads it through
  the Pulumi config, the providers through ``configure()``, the CLI through
  ``Pulumi.<stack>.yaml`` and the environment. The matrix compares the resolved settings
  (objects, never printed).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.dynamic import Config, ConfigureRequest

from infra import program, stack
from infra.cli.init import PULUMI_YAML
from infra.cli.status import ExitCode
from infra.errors import InfraError
from infra.lines.load import load_bytes
from infra.model import LinesConfig
from infra.naming import forward_env, number_batch
from infra.providers.base import TwilioProvider
from infra.providers.phone_number_batch import bind_url, env_binding
from infra.stack import Settings, cli_settings, read_stack_file
from infra.twilio.client import Twilio
from tests.harness.cli_runner import failover
from tests.harness.host import UNKNOWN
from tests.harness.legacy import alert_flow_rule
from tests.harness.program_engine import ProgramEngine
from tests.test_program import CapturingMonitor, FakeOutputs

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "lines.yaml").read_text()
LEGACY = "https://legacy-pbx.acme.example/voice/"
SALES = "+14155550101"
TWILIO_VARIABLES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "TWILIO_REGION",
    "TWILIO_EDGE",
    "TWILIO_API_BASE_URL",
)


def lines(text: str = SHIPPED) -> LinesConfig:
    config, _ = load_bytes(text.encode(), "lines.yaml")
    return config


def number(double: Any, e164: str) -> dict[str, Any]:
    (record,) = [n for n in double.state.numbers.values() if n["phone_number"] == e164]
    return record


@pytest.fixture
def applied(twilio_double: Any) -> tuple[ProgramEngine, dict[str, Any]]:
    """The shipped lines.yaml applied once to an account whose numbers had their own URLs."""
    for line in lines().lines:
        twilio_double.seed_number(line.number, voice_url=LEGACY + line.id)
    engine = ProgramEngine.for_double(twilio_double)
    run = engine.up(lines(), program.StackSettings(stack="dev"))
    return engine, run.state


# ---- item 2: refresh before every up repairs a console edit ---------------------------------


def test_project_refreshes_before_every_up() -> None:
    """https://www.pulumi.com/docs/iac/concepts/projects/project-file/ (options.refresh)."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["options"] == {"refresh": "always"}
    started = yaml.safe_load(PULUMI_YAML.format(version="0"))  # what `failover init` writes
    assert started["options"] == {"refresh": "always"}


def test_a_console_edit_is_repaired_by_the_next_up_with_refresh(
    twilio_double: Any, applied: tuple[ProgramEngine, dict[str, Any]]
) -> None:
    engine, state = applied
    settings = program.StackSettings(stack="dev")
    ours = number(twilio_double, SALES)["voice_fallback_url"]
    batch = number_batch("sales")
    twilio_double.edit_number(SALES, voice_fallback_url="https://console.example/edit")

    # Without a refresh, `up` diffs against state only: zero requests, the edit survives.
    before = len(twilio_double.requests)
    run = engine.up(lines(), settings, state)
    assert run.changed == [] and len(twilio_double.requests) == before
    assert number(twilio_double, SALES)["voice_fallback_url"] == "https://console.example/edit"

    # The refresh reads only: it finds the edit and writes nothing. It lists the account's
    # numbers (1,000 a request) instead of fetching each line's number: no GET per number.
    writes = Counter(twilio_double.writes())
    before = len(twilio_double.requests)
    refreshed, ops = engine.engine.refresh(run.state)
    assert Counter(twilio_double.writes()) == writes
    reads = [r for r in twilio_double.requests[before:] if "IncomingPhoneNumbers" in r.path]
    assert reads and all(
        r.method == "GET" and r.path.endswith("IncomingPhoneNumbers.json") for r in reads
    )
    assert len(reads) == 1  # one listing per provider-host process, whatever the line count
    changed = [urn.rsplit("::", 1)[-1] for op, urn in ops if op == "refresh-changed"]
    assert changed == [batch]
    assert (
        refreshed[next(u for u in refreshed if u.endswith("::" + batch))]["outputs"]["lines"][
            "sales"
        ]["voice_fallback_url"]
        == "https://console.example/edit"
    )

    # `up` with the refresh (Pulumi.yaml options.refresh: always) puts our entry back with one
    # write, re-adopting nothing: the original the line will be restored to is unchanged.
    run = engine.up(lines(), settings, run.state, refresh=True)
    assert run.changed[: len(ops)] == [(op, urn.rsplit("::", 1)[-1]) for op, urn in ops]
    assert [c for c in run.changed if not c[0].startswith("refresh")] == [("update", batch)]
    assert Counter(twilio_double.writes()) - writes == Counter({"IncomingPhoneNumber.update": 1})
    assert number(twilio_double, SALES)["voice_fallback_url"] == ours
    urn = next(u for u in run.state if u.endswith("::" + batch))
    assert run.state[urn]["outputs"]["lines"]["sales"]["adopted"]["voice_fallback_url"] == ""
    assert twilio_double.deletes_of_numbers() == []

    # And the next refreshed up finds nothing to do.
    writes = Counter(twilio_double.writes())
    run = engine.up(lines(), settings, run.state, refresh=True)
    assert {op for op, _ in run.changed} == {"refresh-same"}
    assert Counter(twilio_double.writes()) == writes


# ---- item 5: a preview needs no Twilio credentials ------------------------------------------


def run_main(preview: bool) -> CapturingMonitor:
    """``program.main()`` (the whole Pulumi program, lines file from the stack config) under
    mocks, as `pulumi preview` (``preview=True``) or `pulumi up` runs it."""
    mocks = FakeOutputs()
    monitor = CapturingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="failover", stack="dev", preview=preview, monitor=monitor
    )
    root = pulumi.runtime.get_root_resource()
    if root is not None:
        root.outputs.clear()  # type: ignore[attr-defined]  # the mock stack outlives one test
    try:
        pulumi.runtime.test(program.main)()
    finally:
        pulumi.runtime.settings.configure(
            pulumi.runtime.settings.Settings(project="failover", stack="dev")
        )
    return monitor


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for name in TWILIO_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    pulumi.runtime.set_all_config({})
    yield
    pulumi.runtime.set_all_config({})


@pytest.mark.usefixtures("no_credentials")
def test_the_program_previews_without_any_credentials() -> None:
    monitor = run_main(preview=True)
    batches = monitor.by_type("PhoneNumberBatch")
    assert sum(len(b.inputs["lines"]) for b in batches.values()) == len(lines().lines)
    assert monitor.by_type("LineLedger")  # the safety brake still runs in the preview


@pytest.mark.usefixtures("no_credentials")
def test_an_update_without_credentials_stops_before_any_resource() -> None:
    with pytest.raises(pulumi.RunError, match="missing Twilio credentials: set config"):
        run_main(preview=False)


@pytest.mark.usefixtures("no_credentials")
def test_deprecated_twilio_keys_warn_naming_the_new_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pulumi.runtime.set_all_config({"twilio:accountSid": "AC" + "0" * 32})
    with caplog.at_level(logging.WARNING):
        run_main(preview=True)
    assert any(
        "twilio:accountSid is deprecated: rename it to failover:accountSid" in r.getMessage()
        for r in caplog.records
    ), caplog.text
    assert "AC" + "0" * 32 not in caplog.text


def test_a_preview_through_the_provider_host_needs_no_credentials(
    twilio_double: Any, applied: tuple[ProgramEngine, dict[str, Any]]
) -> None:
    """Check and Diff of every resource, in a host configured with no credentials at all (only
    the double's address, so a request would show), after an edit: no request is made."""
    _, state = applied
    preview = ProgramEngine({"failover:apiBaseUrl": twilio_double.base_url}, set())
    edit = SHIPPED.replace("https://voice.acme.example/sales", "https://voice2.acme.example/sales")
    assert edit != SHIPPED
    before = len(twilio_double.requests)
    ops, _ = preview.preview(lines(edit), program.StackSettings(stack="dev"), state)
    assert len(twilio_double.requests) == before
    changed = [(op, urn.rsplit("::", 1)[-1]) for op, urn in ops if op != "same"]
    # the ledger (the safety brake, in its check) records the new route; one batch changes
    assert changed == [("update", "lines"), ("update", number_batch("sales"))]


def test_with_alerts_flows_too_preview_without_credentials(
    twilio_double: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under 0.2's entry rule (with ``alerts.webhook`` every line entered through a Studio
    flow; such stacks keep their flows until their next ``up``), the flows' check and diff
    need no credentials either, and the edited line's flow is the one that changes."""
    alert_flow_rule(monkeypatch)
    for line in lines().lines:
        twilio_double.seed_number(line.number, voice_url=LEGACY + line.id)
    alerts = "alerts: {webhook: https://hooks.acme.example/failover}\n"
    text = SHIPPED + alerts
    settings = program.StackSettings(stack="dev")
    state = ProgramEngine.for_double(twilio_double).up(lines(text), settings).state
    assert any(res["type"].endswith(":StudioFlow") for res in state.values())
    preview = ProgramEngine({"failover:apiBaseUrl": twilio_double.base_url}, set())
    edit = text.replace('forward: "+14155550188"', 'forward: "+14155550177"', 1)
    before = len(twilio_double.requests)
    ops, _ = preview.preview(lines(edit), settings, state)
    assert len(twilio_double.requests) == before
    changed = {urn.rsplit("::", 1)[-1] for op, urn in ops if op != "same"}
    assert "sales" in changed  # the sales flow's definition holds the forward number


def test_a_preview_names_the_changed_line_even_while_its_environment_changes(
    twilio_double: Any, applied: tuple[ProgramEngine, dict[str, Any]]
) -> None:
    """A new forward number rebuilds the line's forwarding document: its environment is
    updated, so that environment's domain is unknown in the preview. The batches still
    register every line's inputs as known values (the placeholder host is bound by
    ``bindings``, where only that environment's domain is unknown), so ``--diff`` can show
    the changed keys by line: ``documents./f/sales.xml`` here, ``lines.<id>`` for a number."""
    engine, state = applied
    env = forward_env("sales")
    edit = SHIPPED.replace('forward: "+14155550188"', 'forward: "+14155550177"', 1)
    assert edit != SHIPPED
    ops, registered = engine.preview(lines(edit), program.StackSettings(stack="dev"), state)
    changed = {urn.rsplit("::", 1)[-1]: op for op, urn in ops if op != "same"}
    assert changed.get(f"documents-{env}") == "update"
    old_docs = next(r for u, r in state.items() if u.endswith(f"::documents-{env}"))["inputs"]
    new_docs = registered[f"documents-{env}"]["documents"]
    assert [p for p in new_docs if new_docs[p] != old_docs["documents"].get(p)] == ["/f/sales.xml"]
    batches = {name: news for name, news in registered.items() if name.startswith("numbers-")}
    assert len(batches) == len({number_batch(line.id) for line in lines(edit).lines})
    for name, news in batches.items():
        assert UNKNOWN not in json.dumps(news["lines"])  # every line's inputs are known
        assert news["bindings"][env_binding(env)] == UNKNOWN  # the updated environment's domain
        assert news["bindings"][env_binding("shared")]  # an unchanged one stays known
        uses_env = any(
            p["fallback_url"].startswith(f"https://{{{env_binding(env)}}}")
            for p in news["lines"].values()
        )
        assert (changed.get(name) == "update") == uses_env, name
    sales = batches[number_batch("sales")]["lines"]["sales"]
    stored = next(r for u, r in state.items() if u.endswith("::" + number_batch("sales")))
    before = stored["inputs"]["lines"]["sales"]  # checked: with the defaults filled in
    assert {k: before[k] for k in sales} == sales  # the number's own inputs: unchanged


def test_batches_stored_before_bindings_need_no_change(
    twilio_double: Any, applied: tuple[ProgramEngine, dict[str, Any]]
) -> None:
    """State written before ``bindings`` existed holds bound URLs and no ``bindings``: the next
    ``up`` finds nothing to change and writes nothing."""
    engine, state = applied
    for res in state.values():
        if res["type"].endswith(":PhoneNumberBatch"):
            inputs = res["inputs"]
            for props in inputs["lines"].values():
                props["fallback_url"] = bind_url(props["fallback_url"], inputs["bindings"])
            del inputs["bindings"]
    writes = Counter(twilio_double.writes())
    run = engine.up(lines(), program.StackSettings(stack="dev"), state)
    assert run.changed == []
    assert Counter(twilio_double.writes()) == writes


# ---- item 6: one credential story ------------------------------------------------------------

SID, OTHER_SID = "AC" + "1" * 32, "AC" + "2" * 32
TOKEN, OTHER_TOKEN = "t" * 32, "u" * 32
KEY, KEY_SECRET = "SK" + "3" * 32, "k" * 32

CASES: dict[str, tuple[dict[str, Any], dict[str, str], dict[str, str]]] = {
    # name: (stack config, environment, the environment a CLI user adds: the secrets of the
    # stack config, which Pulumi.<stack>.yaml holds encrypted)
    "config only": (
        {"failover:accountSid": SID, "failover:authToken": TOKEN},
        {},
        {"TWILIO_AUTH_TOKEN": TOKEN},
    ),
    "environment only": ({}, {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}, {}),
    "both, the config wins": (
        {"failover:accountSid": SID},
        {"TWILIO_ACCOUNT_SID": OTHER_SID, "TWILIO_AUTH_TOKEN": TOKEN},
        {},
    ),
    "an API key wins over the auth token": (
        {"failover:accountSid": SID, "failover:apiKey": KEY, "failover:apiSecret": KEY_SECRET},
        {"TWILIO_AUTH_TOKEN": OTHER_TOKEN},
        {"TWILIO_API_SECRET": KEY_SECRET},
    ),
    "an API key from the environment": (
        {},
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_API_KEY": KEY,
            "TWILIO_API_SECRET": KEY_SECRET,
            "TWILIO_AUTH_TOKEN": OTHER_TOKEN,
        },
        {},
    ),
    "region from the config, edge from the environment": (
        {"failover:accountSid": SID, "failover:region": "ie1"},
        {"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_REGION": "au1", "TWILIO_EDGE": "dublin"},
        {},
    ),
    "deprecated twilio: keys": (
        {"twilio:accountSid": SID, "twilio:authToken": TOKEN, "twilio:httpTimeout": "12"},
        {"TWILIO_ACCOUNT_SID": OTHER_SID},
        {"TWILIO_AUTH_TOKEN": TOKEN},
    ),
    "the new key wins over the deprecated one": (
        {"failover:accountSid": SID, "twilio:accountSid": OTHER_SID},
        {"TWILIO_AUTH_TOKEN": TOKEN},
        {},
    ),
}
SECRET_CONFIG = {"failover:authToken", "failover:apiSecret", "twilio:authToken"}


def from_program(config: dict[str, Any], environ: dict[str, str]) -> Settings | str:
    pulumi.runtime.set_all_config(dict(config), sorted(SECRET_CONFIG & set(config)))
    try:
        return stack.twilio_settings(program.config_value, environ)
    finally:
        pulumi.runtime.set_all_config({})


def from_provider(config: dict[str, Any], environ: dict[str, str]) -> Settings | str:
    """``configure()`` as the provider host calls it: the whole stack config, and the
    process environment (``environ``, set in os.environ by the test)."""
    assert all(os.environ.get(k) == v for k, v in environ.items())
    provider = TwilioProvider()
    provider.configure(ConfigureRequest(Config(dict(config), "failover")))
    settings: Settings | str = provider._settings  # noqa: SLF001
    return settings


def from_cli(config: dict[str, Any], environ: dict[str, str], tmp_path: Path) -> Settings:
    """`failover drift --stack dev`: Pulumi.dev.yaml as `pulumi config set` writes it
    (secrets encrypted, so unreadable here) and the CLI user's environment."""
    values = {
        k: ({"secure": "v1:encrypted"} if k in SECRET_CONFIG else v) for k, v in config.items()
    }
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": values}))
    return cli_settings(environ, stack=read_stack_file(tmp_path, "dev"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_program_providers_and_cli_resolve_the_same_credentials(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, environ, cli_secrets = CASES[case]
    for name in TWILIO_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    resolved = from_program(config, environ)
    assert isinstance(resolved, Settings), resolved
    assert from_provider(config, environ) == resolved
    assert from_cli(config, {**environ, **cli_secrets}, tmp_path) == resolved
    expected_user = KEY if "API key" in case else resolved.account_sid
    assert (resolved.account_sid, resolved.username) == (SID, expected_user)
    assert resolved.password == (KEY_SECRET if "API key" in case else TOKEN)
    if case.startswith("region"):
        assert (resolved.region, resolved.edge) == ("ie1", "dublin")
    if case.startswith("deprecated"):
        assert resolved.timeout_s == 12.0


def test_a_region_needs_an_edge_and_messages_name_keys_not_values(tmp_path: Path) -> None:
    problem = stack.twilio_settings(
        {"failover:accountSid": SID, "failover:authToken": TOKEN, "failover:region": "ie1"}.get,
        {},
    )
    assert isinstance(problem, str) and problem.startswith("failover:region needs failover:edge")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(InfraError, match="^TWILIO_REGION needs TWILIO_EDGE") as caught:
        cli_settings(
            {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_REGION": "ie1"},
            stack=read_stack_file(tmp_path, "dev"),
        )
    assert TOKEN not in str(caught.value)


def test_region_and_edge_reach_every_host_the_upload_host_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """twilio-python's rule, ``{product}.{edge}.{region}.twilio.com``
    (https://www.twilio.com/docs/global-infrastructure/using-the-twilio-rest-api-in-a-non-us-region),
    for the REST products and for the Serverless upload host alike; nothing but the settings
    decides (a stray TWILIO_REGION in the process is not read behind the config's back)."""
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    regional = Twilio(Settings(SID, SID, TOKEN, region="ie1", edge="dublin"))
    assert regional.upload_url("/v1/Services/ZS1/Assets/ZH1/Versions") == (
        "https://serverless-upload.dublin.ie1.twilio.com/v1/Services/ZS1/Assets/ZH1/Versions"
    )
    assert regional.rest.get_hostname("https://serverless.twilio.com/v1/Services") == (
        "https://serverless.dublin.ie1.twilio.com/v1/Services"
    )
    default = Twilio(Settings(SID, SID, TOKEN))
    assert default.upload_url("/v1/x") == "https://serverless-upload.twilio.com/v1/x"
    assert default.rest.get_hostname("https://api.twilio.com/x") == "https://api.twilio.com/x"
    double = Twilio(
        Settings(SID, SID, TOKEN, base_url="http://127.0.0.1:9", region="ie1", edge="dublin")
    )
    assert double.upload_url("/v1/x") == "https://serverless-upload.twilio.com/v1/x"


def test_the_cli_warns_about_deprecated_keys_of_the_stack_file(tmp_path: Path) -> None:
    """`failover drift --stack dev` reads Pulumi.dev.yaml as the program reads the stack config:
    an old ``twilio:`` key is used, with the same warning, before anything is requested."""
    (tmp_path / "lines.yaml").write_text(SHIPPED)
    (tmp_path / "Pulumi.dev.yaml").write_text(f"config:\n  twilio:accountSid: {SID}\n")
    result = failover("drift", "--stack", "dev", cwd=tmp_path, environ={})
    assert result.code == ExitCode.ERROR
    assert result.stderr == (
        "warning: twilio:accountSid is deprecated: rename it to failover:accountSid "
        "(`pulumi config rm twilio:accountSid`, then `pulumi config set failover:accountSid "
        "...`); the twilio: namespace belongs to the Twilio provider\n"
        "failover: error: missing Twilio secret: set TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
        "TWILIO_API_SECRET) for TWILIO_ACCOUNT_SID\n"
    )
    assert SID not in result.stderr


@pytest.mark.parametrize(
    ("url", "bound"),
    [
        ("https://{env:fwd-03}/f/sales.xml", "https://acme-1-fwd-03.twil.io/f/sales.xml"),
        ("https://{flow:sales}", "https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1"),
        ("https://secondary.acme.example/voice", "https://secondary.acme.example/voice"),
    ],
)
def test_placeholders_bind_to_a_domain_or_a_whole_webhook(url: str, bound: str) -> None:
    bindings = {
        env_binding("fwd-03"): "acme-1-fwd-03.twil.io",
        "flow:sales": "https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1",
    }
    assert bind_url(url, bindings) == bound


def test_a_missing_or_unknown_binding_is_named() -> None:
    with pytest.raises(KeyError, match="env:shared"):
        bind_url("https://{env:shared}/v/default.xml", {"env:shared": pulumi.output.Unknown()})
    with pytest.raises(KeyError, match="env:queues"):
        bind_url("https://{env:queues}/q/main.xml", {})
