"""``failover drift`` in-process against the Twilio double, on accounts deployed by the real program.

The account is what a team has after `pulumi up` of the shipped lines.yaml, plus what real
accounts hold besides: a few hundred numbers no line declares, one bound to a TwiML
Application, one to a SIP Trunk, one with someone else's fallback. Console edits are made
through the API (or the double's ``edit_number``), then drift must name exactly the line and
field, and exit 0 again once the edit is undone.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from infra.cli.env import Env
from infra.cli.main import main
from infra.cli.status import ExitCode
from infra.lines.load import load_config
from infra.model import LinesConfig, Severity
from infra.naming import SHARED_ENV
from infra.program import StackSettings
from infra.routing import fallback_entries
from tests.harness.cli_runner import Result, failover
from tests.harness.program_engine import ProgramEngine

ROOT = Path(__file__).resolve().parent.parent
LEGACY = "https://legacy-pbx.acme.example/voice/"
APP = "AP" + "a" * 32
TRUNK = "TK" + "b" * 32
FOREIGN = "https://ivr.partner.example/fallback"
EXTRA = [f"+1628555{i:04d}" for i in range(240)]


def credentials(d: Any) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": d.account_sid,
        "TWILIO_AUTH_TOKEN": d.auth_token,
        "TWILIO_API_BASE_URL": d.base_url,
    }


def shipped() -> LinesConfig:
    return load_config(ROOT / "lines.yaml")[0]


def deploy(d: Any, config: LinesConfig) -> None:
    """The account after `pulumi up` of ``config`` on stack dev, plus realistic extras."""
    for line in config.lines:
        d.seed_number(line.number, voice_url=LEGACY + line.id, friendly_name=line.display_name)
    ProgramEngine.for_double(d).up(config, StackSettings(stack="dev"))
    d.seed_numbers(EXTRA, voice_url=LEGACY + "other")
    d.seed_number("+16285559001", voice_application_sid=APP, friendly_name="Kiosk")
    d.seed_number("+16285559002", trunk_sid=TRUNK, friendly_name="Warehouse PBX")
    d.seed_number(
        "+16285559003", voice_url=LEGACY + "x", voice_fallback_url=FOREIGN, friendly_name="Partner"
    )


@pytest.fixture
def account(twilio_double: Any) -> Any:
    deploy(twilio_double, shipped())
    return twilio_double


def drift(d: Any, *args: str) -> Result:
    return failover("drift", *args, cwd=ROOT, environ=credentials(d))


def webhook(d: Any, name: str) -> str:
    (flow,) = [f for f in d.state.flows.values() if f["friendly_name"] == name]
    return flow["webhook_url"]


def document(d: Any, env: str, path: str) -> str:
    """URL of a deployed TwiML document: the domain the double gave environment ``env``."""
    (domain,) = [e["domain_name"] for e in d.state.environments.values() if e["unique_name"] == env]
    return f"https://{domain}{path}"


def undeclared_text() -> list[str]:
    rows = [f'  {n}  "({n[2:5]}) {n[5:8]}-{n[8:]}"  no fallback' for n in EXTRA]
    return [
        "243 numbers are not in lines.yaml (no failover from it):",
        *rows,
        f'  +16285559001  "Kiosk"  bound to TwiML Application {APP}: a number-level fallback is ignored',
        f'  +16285559002  "Warehouse PBX"  bound to SIP Trunk {TRUNK}: a number-level fallback is ignored',
        f'  +16285559003  "Partner"  fallback {FOREIGN} (not managed by lines.yaml)',
    ]


HEAD = "lines.yaml: 9 lines, 0 flows, 5 agents against 252 numbers (stack dev, severity minor)"


def test_deployed_account_is_clean_and_lists_numbers_no_line_declares(account: Any) -> None:
    result = drift(account)
    assert (result.code, result.stderr) == (ExitCode.OK, "")
    assert result.stdout.splitlines() == [f"{HEAD}: no differences", *undeclared_text()]


def test_one_console_edit_names_that_line_and_field_then_clears(account: Any) -> None:
    wanted = document(account, "fwd-00", "/f/sales.xml")
    account.edit_number("+14155550101", voice_fallback_url="https://console.example/oops")
    result = drift(account)
    assert result.code == ExitCode.CHANGES
    assert result.stdout.splitlines()[:4] == [
        f"{HEAD}: 1 difference (sales)",
        "  sales  voice_fallback_url: fallback URL differs from lines.yaml",
        f"      wants {wanted}",
        "      live  https://console.example/oops",
    ]
    account.edit_number("+14155550101", voice_fallback_url=wanted)
    assert drift(account).code == ExitCode.OK


def test_every_kind_of_edit_is_reported_in_json(account: Any) -> None:
    client = account.client()
    account.edit_number("+14155550104", voice_fallback_method="POST")  # press: a document, GET
    account.edit_number("+14155550106", voice_url=LEGACY + "eli")  # eli: test mode ended by hand
    account.edit_number("+14155550107", voice_application_sid=APP)  # fay: bound to an app
    # gus: pointed at the shared default voicemail by hand, skipping his forward
    default_voicemail = document(account, SHARED_ENV, "/v/default.xml")
    account.edit_number("+14155550108", voice_fallback_url=default_voicemail)
    (ws,) = account.state.workspaces.values()
    workers = {w["friendly_name"]: w["sid"] for w in account.state.workers.values()}
    attributes = {"contact_uri": "+14155550999", "lines": ["support"], "name": "Bob Okafor"}
    client.taskrouter.v1.workspaces(ws["sid"]).workers(workers["bob"]).update(
        attributes=json.dumps(attributes)
    )
    result = drift(account, "--format", "json")
    assert result.code == ExitCode.CHANGES
    report = json.loads(result.stdout)
    assert (report["stack"], report["severity"], report["clean"]) == ("dev", "minor", False)
    assert report["differences"] == [
        {
            "subject": "press",
            "field": "voice_fallback_method",
            "message": "fallback method differs from lines.yaml",
            "wanted": "GET",
            "live": "POST",
        },
        {
            "subject": "eli",
            "field": "voice_url",
            "message": "primary URL differs from lines.yaml",
            "wanted": document(account, "fwd-12", "/f/eli.xml"),
            "live": LEGACY + "eli",
        },
        {
            "subject": "fay",
            "field": "voice_application_sid",
            "message": f"+14155550107 is bound to TwiML Application {APP}: Twilio ignores the number's fallback",
        },
        {
            "subject": "gus",
            "field": "voice_fallback_url",
            "message": "fallback URL differs from lines.yaml",
            "wanted": document(account, "fwd-03", "/f/gus.xml"),
            "live": default_voicemail,
        },
        {
            "subject": "main",
            "field": "queue_agents",
            "message": "the agents serving the queue differ from lines.yaml",
            "wanted": "alice, bob",
            "live": "alice",
        },
        {
            "subject": "agent bob",
            "field": "contact_uri",
            "message": "the phone TaskRouter dials differs from lines.yaml",
            "wanted": "+14155550112",
            "live": "+14155550999",
        },
    ]
    assert len(report["undeclared_numbers"]) == 243


def test_severity_must_match_the_stack(account: Any) -> None:
    result = drift(account, "--severity", "severe", "--format", "json")
    assert result.code == ExitCode.CHANGES
    changed = [
        (d["subject"], d["field"], d["wanted"]) for d in json.loads(result.stdout)["differences"]
    ]
    assert changed == [
        ("main", "voice_fallback_url", document(account, "queues", "/q/main.xml")),
        ("support", "voice_fallback_url", document(account, "queues", "/q/support.xml")),
    ]


def test_markdown_is_a_table_with_the_undeclared_numbers_folded(account: Any) -> None:
    account.edit_number("+14155550102", voice_fallback_url="https://console.example/b")
    result = drift(account, "--format", "markdown")
    assert result.code == ExitCode.CHANGES
    assert result.stdout.splitlines()[:7] == [
        "### Drift: `lines.yaml` against Twilio",
        "",
        f"{HEAD.removeprefix('lines.yaml: ')}: **1 difference (billing)**.",
        "",
        "| Line | Field | Problem | Wants | Live |",
        "| --- | --- | --- | --- | --- |",
        "| `billing` | `voice_fallback_url` | fallback URL differs from lines.yaml "
        "| `https://backup-voice.acme.example/billing` | `https://console.example/b` |",
    ]
    assert "<details><summary>243 numbers not in lines.yaml</summary>" in result.stdout
    assert (
        f"| +16285559001 | Kiosk | bound to TwiML Application {APP}: a number-level fallback is ignored |"
        in result.stdout
    )


def test_several_stacks_need_stack_and_an_api_key_works(account: Any) -> None:
    account.client().serverless.v1.services.create(
        unique_name="acme-failover-prod", friendly_name="p"
    )
    result = drift(account)
    assert result.code == ExitCode.ERROR
    assert result.stderr == (
        "failover: error: the account holds several stacks of acme (dev, prod); pass --stack NAME\n"
    )
    key, secret = account.add_api_key()
    environ = credentials(account) | {"TWILIO_API_KEY": key, "TWILIO_API_SECRET": secret}
    del environ["TWILIO_AUTH_TOKEN"]
    result = failover("drift", "--stack", "dev", cwd=ROOT, environ=environ)
    assert (result.code, result.stdout.splitlines()[0]) == (ExitCode.OK, f"{HEAD}: no differences")


ALERTS = "alerts:\n  webhook: https://hooks.acme.example/failover\n"


def test_with_alerts_the_entries_stay_static_and_drift_is_clean(
    twilio_double: Any, tmp_path: Path
) -> None:
    """``alerts.webhook`` no longer puts a Studio flow in front of the lines (alerts are sent by
    `failover status --notify`): the same documents, no flows, nothing to drift."""
    d = twilio_double
    text = (ROOT / "lines.yaml").read_text()
    assert "# alerts:\n#   webhook: https://hooks.acme.example/failover\n" in text
    text = text.replace("# alerts:\n#   webhook: https://hooks.acme.example/failover\n", ALERTS)
    (tmp_path / "lines.yaml").write_text(text)
    deploy(d, load_config(tmp_path / "lines.yaml")[0])
    assert d.state.flows == {}
    result = failover("drift", cwd=tmp_path, environ=credentials(d))
    assert (result.code, result.stdout.splitlines()[0]) == (ExitCode.OK, f"{HEAD}: no differences")
    entry = fallback_entries(load_config(tmp_path / "lines.yaml")[0], Severity.MINOR)["sales"]
    (live,) = [n for n in d.state.numbers.values() if n["phone_number"] == "+14155550101"]
    assert (live["voice_fallback_url"], live["voice_fallback_method"]) == (
        document(d, entry.env, entry.ref), "GET",
    )  # fmt: skip


SMALL = """\
version: 1
account: {name: shop}
agents:
  - {id: ann, name: Ann, phone: "+16285550001"}
lines:
  - {id: desk, type: department, number: "+14155550150", failover: {forward: "+16285550000"},
     queue: {agents: [ann]}}
  - {id: gone, type: user, number: "+14155550151"}
"""


def test_undeployed_account_reports_what_is_missing(twilio_double: Any, tmp_path: Path) -> None:
    d = twilio_double
    (tmp_path / "lines.yaml").write_text(SMALL)
    d.seed_numbers(["+14155550150", "+16285550000", "+16285550001"])
    result = failover("drift", "--format", "text", cwd=tmp_path, environ=credentials(d))
    assert result.code == ExitCode.CHANGES
    assert result.stdout.splitlines() == [
        "lines.yaml: 2 lines, 0 flows, 1 agent against 3 numbers (stack ?, severity minor): "
        "8 differences (stack, desk, gone, agent ann)",
        "  stack  serverless_service: Serverless service shop-failover-<stack> is missing: nothing is deployed",
        "  stack  taskrouter: TaskRouter workspace shop-failover is missing",
        "  desk  voice_fallback_url: fallback URL differs from lines.yaml",
        "      wants /f/desk.xml in Serverless environment fwd-10 (missing)",
        "      live  (none)",
        "  desk  voice_fallback_method: fallback method differs from lines.yaml",
        "      wants GET",
        "      live  POST",
        "  desk  voice_url: the number has no voice URL and the line declares no primary: "
        "Twilio refuses a fallback without one (error 21405)",
        "  gone  number: +14155550151 is not a number of this account",
        "  desk  failover.forward: +16285550000 is a number of this Twilio account, not an outside PSTN number",
        "  agent ann  phone: +16285550001 is a number of this Twilio account, not an outside PSTN number",
        "2 numbers are not in lines.yaml (no failover from it):",
        '  +16285550000  "(628) 555-0000"  no fallback',
        '  +16285550001  "(628) 555-0001"  no fallback',
    ]


ONE_LINE = 'version: 1\naccount: {name: big}\nlines:\n  - {id: first, type: department, number: "+14155000000"}\n'


def test_2500_numbers_take_3_list_requests_and_nothing_else_per_number(
    twilio_double: Any, tmp_path: Path
) -> None:
    d = twilio_double
    d.seed_numbers([f"+1415500{i:04d}" for i in range(2500)], voice_url=LEGACY + "big")
    (tmp_path / "lines.yaml").write_text(ONE_LINE)
    result = failover("drift", "--stack", "dev", cwd=tmp_path, environ=credentials(d))
    assert result.code == ExitCode.CHANGES  # nothing deployed
    paths = [
        (r.method, r.host, r.path.rsplit("/", 1)[-1], r.query.get("PageSize")) for r in d.requests
    ]
    assert paths == [
        *[("GET", "api.twilio.com", "IncomingPhoneNumbers.json", ["1000"])] * 3,
        ("GET", "studio.twilio.com", "Flows", ["1000"]),
        ("GET", "serverless.twilio.com", "big-failover-dev", None),
    ]
    assert "2499 numbers are not in lines.yaml" in result.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminal_only(twilio_double: Any, tmp_path: Path) -> None:
    d = twilio_double
    d.seed_numbers([f"+1415500{i:04d}" for i in range(1200)], voice_url=LEGACY + "big")
    (tmp_path / "lines.yaml").write_text(ONE_LINE)
    out, err = io.StringIO(), _Terminal()
    env = Env(stdout=out, stderr=err, cwd=tmp_path, environ=credentials(d))
    assert main(["drift", "--stack", "dev"], env) == ExitCode.CHANGES
    width = len("reading numbers: 1,200/…")
    assert err.getvalue() == (
        "\rreading numbers: 1,000/…"
        "\rreading numbers: 1,200/…"
        "\r" + "reading Studio flows…".ljust(width) + "\r" + " " * width + "\r"
    )
    assert failover("drift", "--stack", "dev", cwd=tmp_path, environ=credentials(d)).stderr == ""


def test_missing_credentials_name_the_variables() -> None:
    result = failover("drift", cwd=ROOT, environ={})
    assert (result.code, result.stdout) == (ExitCode.ERROR, "")
    assert result.stderr == (
        "failover: error: missing Twilio credentials: set TWILIO_ACCOUNT_SID with "
        "TWILIO_AUTH_TOKEN (or with TWILIO_API_KEY and TWILIO_API_SECRET)\n"
    )


def test_a_rejected_token_is_one_line_with_the_code_and_no_secret(twilio_double: Any) -> None:
    d = twilio_double
    wrong = "f" * 32
    result = failover("drift", cwd=ROOT, environ=credentials(d) | {"TWILIO_AUTH_TOKEN": wrong})
    assert result.code == ExitCode.ERROR
    assert result.stderr.startswith("failover: error: account: list numbers failed: ")
    assert result.stderr == (
        "failover: error: account: list numbers failed: Authentication Error - invalid username "
        "(HTTP 401, Twilio error 20003) see https://www.twilio.com/docs/errors/20003\n"
    )


def test_drift_reads_the_environments_the_program_deploys_into(account: Any) -> None:
    """Every entry drift resolves (either severity) names an environment the program created,
    and the snapshot's ``domain`` is the one holding the Functions and shared documents."""
    from infra.account.drift import Snapshot

    deployed = {e["unique_name"]: e["domain_name"] for e in account.state.environments.values()}
    entries = [e for s in Severity for e in fallback_entries(shipped(), s).values() if e.env]
    assert {e.env for e in entries} | {SHARED_ENV} <= set(deployed)
    assert Snapshot([], {}, domains=deployed).domain == deployed[SHARED_ENV]


def test_stack_file_gives_the_severity_and_lines_file(account: Any, tmp_path: Path) -> None:
    """`--stack hot` reads Pulumi.hot.yaml like the program does: run by hand without
    --severity, drift checks the severity the stack is deployed with."""
    (tmp_path / "lines-hot.yaml").write_text((ROOT / "lines.yaml").read_text())
    (tmp_path / "Pulumi.hot.yaml").write_text(
        "config:\n  failover:linesFile: lines-hot.yaml\n  failover:severity: severe\n"
    )
    result = failover(
        "drift", "--stack", "hot", "--format", "json", cwd=tmp_path, environ=credentials(account)
    )
    report = json.loads(result.stdout)
    assert report["file"] == "lines-hot.yaml" and report["severity"] == "severe"
    explicit = failover(
        "drift",
        "--stack",
        "hot",
        "--severity",
        "minor",
        "--format",
        "json",
        cwd=tmp_path,
        environ=credentials(account),
    )
    assert json.loads(explicit.stdout)["severity"] == "minor"  # the flag wins over the file


ADOPT = """\
version: 1
account: {name: shop}
lines:
  - {id: desk, type: department, number: "+14155550150", primary: "https://voice.shop.example/desk"}
  - {id: help, type: department, number: "+14155550151", failover: {url: "https://backup.shop.example/help"}}
"""


def test_before_the_first_up_drift_names_each_existing_fallback_it_replaces_and_with_what(
    twilio_double: Any, tmp_path: Path
) -> None:
    d = twilio_double
    (tmp_path / "lines.yaml").write_text(ADOPT)
    d.seed_number("+14155550150", voice_url="https://voice.shop.example/desk",
                  voice_fallback_url="https://legacy-pbx.shop.example/fallback")  # fmt: skip
    d.seed_number("+14155550151", voice_url="https://voice.shop.example/help",
                  voice_fallback_url="https://legacy-pbx.shop.example/help")  # fmt: skip
    result = failover("drift", "--format", "json", cwd=tmp_path, environ=credentials(d))
    assert result.code == ExitCode.CHANGES
    findings = {(f["subject"], f["field"]): f for f in json.loads(result.stdout)["differences"]}
    replaced = "existing fallback URL (not this tool's) is replaced by the first `pulumi up`"
    desk = findings[("desk", "voice_fallback_url")]
    assert desk["message"].startswith(replaced)
    assert desk["live"] == "https://legacy-pbx.shop.example/fallback"
    assert desk["wanted"] == "/v/default.xml in Serverless environment shared (missing)"
    help_ = findings[("help", "voice_fallback_url")]
    assert help_["message"].startswith(replaced)
    assert (help_["wanted"], help_["live"]) == (
        "https://backup.shop.example/help",
        "https://legacy-pbx.shop.example/help",
    )
    assert ("desk", "voice_url") not in findings  # the declared primary is already live
