"""``failover check`` against the Twilio double, on an account deployed by the real program.

The account is the shipped lines.yaml after `pulumi up` (``tests.test_drift.deploy``), with
Great Britain allowed in its Voice Dialing Geographic Permissions (gus forwards there, erin
answers the support queue from there). Every hop is requested through the double over
loopback: documents from the deployed builds (protected: served only with a valid
``X-Twilio-Signature``), secondary servers from the double's scripted internet. Each break
of the acceptance list exits 3 naming the line and the hop; undoing it exits 0 again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.cli.status import ExitCode
from infra.lines.load import load_config
from infra.model import Severity
from infra.program import StackSettings
from infra.stack import Settings
from infra.twilio.webhooks import Webhooks
from tests.harness.cli_runner import Result, failover
from tests.harness.legacy import alert_flow_rule
from tests.harness.program_engine import ProgramEngine
from tests.test_drift import ALERTS, LEGACY, credentials, deploy, document, shipped
from tests.twilio_double.internet import Answer

ROOT = Path(__file__).resolve().parent.parent
SECONDARY = "https://backup-voice.acme.example/billing"
HEAD = "lines.yaml: 9 lines, {hops} hops (stack dev, severity {severity})"


@pytest.fixture
def account(twilio_double: Any) -> Any:
    deploy(twilio_double, shipped())
    twilio_double.set_dialing_permission("GB", True)
    return twilio_double


@pytest.fixture
def severe(twilio_double: Any) -> Any:
    """The shipped lines deployed at severity severe, every agent On Duty."""
    d, config = twilio_double, shipped()
    for line in config.lines:
        d.seed_number(line.number, voice_url=LEGACY + line.id)
    ProgramEngine.for_double(d).up(config, StackSettings(stack="dev", severity=Severity.SEVERE))
    d.set_dialing_permission("GB", True)
    for agent in config.agents:
        d.voice.taskrouter.set_activity(agent.id, "On Duty")
    return d


def check(d: Any, *args: str) -> Result:
    return failover("check", *args, cwd=ROOT, environ=credentials(d))


def problems(result: Result) -> list[tuple[str, str, str]]:
    """(line, hop, problem) of every broken hop, from the JSON report."""
    report = json.loads(result.stdout)
    return [
        (entry["line"], hop["hop"], hop["problem"])
        for entry in report["lines"]
        for hop in entry["hops"]
        if not hop["ok"]
    ]


def test_a_deployed_account_is_ready_and_every_document_was_requested_signed(
    account: Any,
) -> None:
    result = check(account)
    assert (result.code, result.stderr) == (ExitCode.OK, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("lines.yaml: 9 lines, ") and lines[0].endswith(
        "(stack dev, severity minor): ready"
    )
    assert lines[1:] == [
        f"  billing  secondary POST {SECONDARY}: note: not requested (--probe-secondary requests it)",
        lines[2],
    ]
    assert lines[2].startswith("  eli  test mode: note: test mode since ")
    fetched = [r for r in account.voice.internet.log if r.get("from") == "http"]
    assert {r["method"] for r in fetched} == {"GET"}
    assert len(fetched) >= 9 and all(r["signature_valid"] for r in fetched)
    urls = [r["url"].split("?")[0] for r in fetched]
    assert len(urls) == len(set(urls))  # a shared document is requested once per run
    assert all(r["status"] == 200 for r in fetched)
    assert not any(SECONDARY in r["url"] for r in fetched)  # never probed unless asked
    assert not account.violations, account.explain()


def test_a_removed_document_names_the_line_and_the_document(account: Any) -> None:
    url = document(account, "fwd-00", "/f/sales.xml")
    (env,) = [e for e in account.state.environments.values() if e["unique_name"] == "fwd-00"]
    build = account.state.builds[env["build_sid"]]
    build["asset_versions"] = [v for v in build["asset_versions"] if v["path"] != "/f/sales.xml"]
    result = check(account, "--format", "json")
    assert result.code == ExitCode.CHANGES
    assert problems(result) == [
        ("sales", f"fallback GET {url}", "answered HTTP 404 (Twilio fails the call: 11200)")
    ]
    text = check(account)
    assert f"  sales  fallback GET {url}: answered HTTP 404" in text.stdout
    assert text.stdout.splitlines()[0].endswith("not ready: sales")


def test_a_changed_fallback_url_names_the_line(account: Any) -> None:
    wanted = document(account, "fwd-00", "/f/sales.xml")
    account.edit_number("+14155550101", voice_fallback_url="https://console.example/oops")
    result = check(account, "--format", "json")
    assert result.code == ExitCode.CHANGES
    found = problems(result)
    assert found[0] == (
        "sales",
        "fallback URL",
        f"fallback URL differs from lines.yaml (wants {wanted}, live https://console.example/oops)",
    )
    # and the walk requested what Twilio would request now: nothing answers there
    assert found[1][:2] == ("sales", "fallback GET https://console.example/oops")
    account.edit_number("+14155550101", voice_fallback_url=wanted)
    assert check(account).code == ExitCode.OK


def test_a_forward_number_that_is_the_accounts_own(account: Any) -> None:
    account.seed_number("+14155550188", voice_url=LEGACY + "own")
    result = check(account, "--format", "json")
    assert result.code == ExitCode.CHANGES
    assert problems(result) == [
        (
            "sales",
            "<Dial> +14155550188",
            "+14155550188 is a number of this Twilio account, not an outside PSTN number",
        )
    ]


def test_a_forward_to_a_country_the_account_may_not_call(account: Any) -> None:
    account.set_dialing_permission("GB", False)
    result = check(account, "--format", "json")
    assert result.code == ExitCode.CHANGES
    refused = (
        "is in GB, which this account may not call (Voice Dialing Geographic Permissions: "
        "allow it in the Console, Voice > Settings)"
    )
    assert problems(result) == [
        ("support", "agent erin +442079460011", f"+442079460011 {refused}"),
        ("gus", "<Dial> +442079460022", f"+442079460022 {refused}"),
    ]
    reads = [r.path for r in account.requests if r.host == "voice.twilio.com"]
    assert reads and all(p.startswith("/v1/DialingPermissions/Countries/") for p in reads)
    assert len(reads) == len(set(reads))  # one fetch per country per run


def test_check_one_line_only(account: Any) -> None:
    account.set_dialing_permission("GB", False)
    assert check(account, "--line", "sales").code == ExitCode.OK
    assert check(account, "--line", "gus").code == ExitCode.CHANGES
    unknown = check(account, "--line", "nobody")
    assert unknown.code == ExitCode.ERROR
    assert "--line nobody: no such line" in unknown.stderr


def test_severe_with_every_agent_off_duty_names_the_queued_lines(severe: Any) -> None:
    assert check(severe, "--severity", "severe").code == ExitCode.OK
    for agent in ("alice", "bob", "carol", "dev", "erin"):
        severe.voice.taskrouter.set_activity(agent, "Off Duty")
    result = check(severe, "--severity", "severe", "--format", "json")
    assert result.code == ExitCode.CHANGES
    assert problems(result) == [
        (
            "main",
            "queue",
            "no agent is On Duty (alice, bob): queued callers go straight to voicemail",
        ),
        (
            "support",
            "queue",
            "no agent is On Duty (alice, bob, carol, dev, erin): queued callers go straight "
            "to voicemail",
        ),
    ]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (Answer(500, "Internal Server Error", "text/plain"), "answered HTTP 500"),
        (Answer.twiml("<Response><Say>Backup</Say>"), "the answer is not XML"),
        (Answer.twiml("<html>maintenance</html>"), "the answer's root is <html>"),
        (Answer(200, "<Response/>", delay=3.0), "no answer within 0.5 s"),
    ],
    ids=["http-500", "broken-xml", "not-twiml", "slow"],
)
def test_probe_secondary_names_a_secondary_that_fails(
    account: Any, answer: Answer, problem: str
) -> None:
    account.voice.internet.script(SECONDARY, answer)
    result = check(account, "--probe-secondary", "--probe-timeout", "0.5", "--format", "json")
    assert result.code == ExitCode.CHANGES
    ((line, hop, found),) = problems(result)
    assert (line, hop) == ("billing", f"secondary POST {SECONDARY}")
    assert found.startswith(problem)


def test_probe_secondary_posts_like_twilio_and_accepts_twiml(account: Any) -> None:
    account.voice.internet.script(SECONDARY, Answer.twiml("<Response><Say>Backup</Say></Response>"))
    result = check(account, "--probe-secondary", "--probe-timeout", "0.5")
    assert result.code == ExitCode.OK
    (probe,) = account.voice.internet.requests_to(SECONDARY)
    assert probe["method"] == "POST" and probe["signature_valid"]
    assert probe["params"]["ErrorCode"] == "11200"
    assert probe["params"]["To"] == "+14155550102"


def test_an_entity_bomb_from_a_secondary_is_refused_not_expanded(account: Any) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Response><Say>&b;</Say></Response>'
    )
    account.voice.internet.script(SECONDARY, Answer.twiml(bomb))
    result = check(account, "--probe-secondary", "--probe-timeout", "0.5", "--format", "json")
    assert result.code == ExitCode.CHANGES
    assert problems(result) == [
        (
            "billing",
            f"secondary POST {SECONDARY}",
            "the answer declares a DTD or entities: not TwiML (12100)",
        )
    ]


def test_markdown_report_is_a_table_of_broken_hops(account: Any) -> None:
    account.set_dialing_permission("GB", False)
    result = check(account, "--format", "markdown")
    assert result.code == ExitCode.CHANGES
    out = result.stdout.splitlines()
    assert out[0] == "### Readiness: `lines.yaml` against Twilio"
    assert "| Line | Hop | Problem |" in out
    assert any(row.startswith("| `gus` | <Dial> +442079460022 | ") for row in out)


def test_an_api_key_cannot_sign_so_check_says_what_to_set(account: Any) -> None:
    key, secret = account.add_api_key()
    environ = {
        "TWILIO_ACCOUNT_SID": account.account_sid,
        "TWILIO_API_KEY": key,
        "TWILIO_API_SECRET": secret,
        "TWILIO_API_BASE_URL": account.base_url,
    }
    result = failover("check", cwd=ROOT, environ=environ)
    assert result.code == ExitCode.ERROR
    assert "set TWILIO_AUTH_TOKEN" in result.stderr
    assert secret not in result.stderr + result.stdout


def test_with_alerts_an_unpublished_or_edited_flow_names_the_line(
    twilio_double: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stack deployed by 0.2 with ``alerts.webhook`` has every line behind a Studio flow
    until its next ``pulumi up`` (alerts left the caller's path since): the check walks the
    flow's redirects, forwards and queue, and a flow left unpublished or edited breaks its line.
    The entry rule of that release is patched in, as tests/test_render_studio.py does."""
    alert_flow_rule(monkeypatch)
    d = twilio_double
    text = (ROOT / "lines.yaml").read_text()
    commented = "# alerts:\n#   webhook: https://hooks.acme.example/failover\n"
    (tmp_path / "lines.yaml").write_text(text.replace(commented, ALERTS))
    deploy(d, load_config(tmp_path / "lines.yaml")[0])
    d.set_dialing_permission("GB", True)

    def run() -> Result:
        return failover("check", "--format", "json", cwd=tmp_path, environ=credentials(d))

    result = run()
    assert (result.code, result.stderr) == (ExitCode.OK, "")
    hops = {e["line"]: [h["hop"] for h in e["hops"]] for e in json.loads(result.stdout)["lines"]}
    assert hops["gus"][:2] == ["Studio flow acme-failover-gus", "flow dials +442079460022"]
    assert not [r for r in d.voice.internet.log if "hooks.acme.example" in r["url"]]  # no alert

    (flow,) = [f for f in d.state.flows.values() if f["friendly_name"] == "acme-failover-gus"]
    definition = json.loads(json.dumps(flow["definition"]))
    forward = next(s for s in definition["states"] if s["name"] == "forward")
    forward["properties"]["timeout"] = 60
    d.client().studio.v2.flows(flow["sid"]).update(status="draft", definition=definition)
    result = run()
    assert result.code == ExitCode.CHANGES
    assert [(line, hop) for line, hop, _ in problems(result)] == [
        ("gus", "Studio flow"),
        ("gus", "Studio flow"),
    ]
    messages = [problem for _, _, problem in problems(result)]
    assert messages[0].startswith("Studio flow acme-failover-gus is not published")
    assert messages[1] == (
        "Studio flow acme-failover-gus differs from lines.yaml: changed states: forward"
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://169.254.169.254/latest", "a private or local address"),
        ("http://10.1.2.3/voice", "a private or local address"),
        ("https://[::1]/x", "a private or local address"),
        ("https://pbx.local/x", "a local host name"),
        ("ftp://files.example/x.xml", "not an http(s) URL"),
    ],
)
def test_a_url_twilio_cannot_reach_is_not_requested_from_the_runner_either(
    url: str, why: str
) -> None:
    """A fallback URL set in the Console to an internal address is a broken hop, and the
    check (run from CI) does not request it."""
    web = Webhooks(Settings(account_sid="AC" + "1" * 32, username="AC" + "1" * 32, password="t"))
    answer = web.request(url, "GET", {"CallSid": "CA" + "0" * 32})
    assert (answer.status, answer.failure) == (
        None,
        f"not requested: {why}" + (", which Twilio cannot reach" if "not an" not in why else ""),
    )


def test_an_agent_phone_in_a_forbidden_country_breaks_the_queued_line_at_any_severity(
    account: Any,
) -> None:
    account.set_dialing_permission("GB", False)
    result = check(account, "--line", "support", "--format", "json")
    assert result.code == ExitCode.CHANGES
    assert problems(result) == [
        (
            "support",
            "agent erin +442079460011",
            "+442079460011 is in GB, which this account may not call (Voice Dialing "
            "Geographic Permissions: allow it in the Console, Voice > Settings)",
        )
    ]


def test_the_doubles_web_serves_protected_documents_only_to_signed_requests(account: Any) -> None:
    """What makes the signed-request assertions above meaningful: unsigned, or signed with
    another token, a protected document is refused; signed as Twilio signs, it is served."""
    import urllib.error
    import urllib.request

    from tests.twilio_double.internet import sign

    url = document(account, "shared", "/v/default.xml")
    local = f"{account.base_url}/{url.removeprefix('https://')}"
    for signature in ("", sign("not-the-token", url, {})):
        request = urllib.request.Request(local, headers={"X-Twilio-Signature": signature})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 401
    signed = urllib.request.Request(
        local, headers={"X-Twilio-Signature": sign(account.auth_token, url, {})}
    )
    with urllib.request.urlopen(signed, timeout=10) as served:
        assert served.status == 200 and b"<Record" in served.read()


def test_the_doubles_dialing_permissions_follow_the_spec(twilio_double: Any) -> None:
    countries = twilio_double.client().voice.v1.dialing_permissions.countries
    us, gb = countries("US").fetch(), countries("gb").fetch()
    assert (us.iso_code, us.low_risk_numbers_enabled, us.country_codes) == ("US", True, ["+1"])
    assert (gb.iso_code, gb.low_risk_numbers_enabled) == ("GB", False)
    twilio_double.set_dialing_permission("GB", True)
    assert countries("GB").fetch().low_risk_numbers_enabled is True
    with pytest.raises(Exception, match="404"):
        countries("ZZ").fetch()
    assert not twilio_double.violations, twilio_double.explain()


def test_nothing_deployed_is_not_ready_and_says_so(twilio_double: Any) -> None:
    for line in shipped().lines:
        twilio_double.seed_number(line.number, voice_url=LEGACY + line.id)
    result = check(twilio_double)
    assert result.code == ExitCode.CHANGES
    out = result.stdout.splitlines()
    assert "not ready: stack, main, sales" in out[0]
    assert out[1] == (
        "  stack  serverless_service: Serverless service acme-failover-<stack> is missing: "
        "nothing is deployed"
    )
    assert "  sales  fallback URL: the number has no fallback URL" in out


SMS_REPLY = "We are offline right now and will text you back."


def _deploy_text(d: Any, tmp_path: Path, text: str, **seed: str) -> None:
    """``text`` as tmp_path/lines.yaml, its numbers seeded (with ``seed``) and deployed."""
    (tmp_path / "lines.yaml").write_text(text)
    config = load_config(tmp_path / "lines.yaml")[0]
    for line in config.lines:
        d.seed_number(line.number, voice_url=LEGACY + line.id, **seed)
    ProgramEngine.for_double(d).up(config, StackSettings(stack="dev"))
    d.set_dialing_permission("GB", True)


def test_an_sms_reply_is_requested_signed_and_a_changed_sms_fallback_names_the_line(
    twilio_double: Any, tmp_path: Path
) -> None:
    d = twilio_double
    text = (ROOT / "lines.yaml").read_text()
    text = text.replace("defaults:\n", f'defaults:\n  sms: {{reply: "{SMS_REPLY}"}}\n', 1)
    _deploy_text(d, tmp_path, text, sms_url="https://legacy.acme.example/sms")

    def run() -> Result:
        return failover("check", "--format", "json", cwd=tmp_path, environ=credentials(d))

    result = run()
    assert (result.code, result.stderr) == (ExitCode.OK, "")
    report = json.loads(result.stdout)
    sms = [h for e in report["lines"] for h in e["hops"] if h["hop"].startswith("SMS reply GET")]
    assert len(sms) == 9 and all(h["ok"] for h in sms)
    reply_url = sms[0]["hop"].split(" ", 3)[3]
    assert {h["hop"] for h in sms} == {sms[0]["hop"]}  # one shared document for the 9 lines
    fetched = [r for r in d.voice.internet.log if r["url"].split("?")[0] == reply_url]
    assert [(r["status"], r["signature_valid"]) for r in fetched] == [(200, True)]  # once
    d.edit_number("+14155550101", sms_fallback_url="https://console.example/sms")
    result = run()
    assert result.code == ExitCode.CHANGES
    assert [(line, hop) for line, hop, _ in problems(result)] == [
        ("sales", "SMS fallback URL"),
        ("sales", "SMS reply GET https://console.example/sms"),
    ]


def test_an_expired_test_makes_the_line_not_ready(twilio_double: Any, tmp_path: Path) -> None:
    d = twilio_double
    text = (ROOT / "lines.yaml").read_text()
    main = "    primary: https://voice.acme.example/main\n"
    assert main in text
    until = "    test: {until: 2026-01-01T06:00:00Z}\n"
    _deploy_text(d, tmp_path, text.replace(main, main + until, 1))
    result = failover("check", "--format", "json", cwd=tmp_path, environ=credentials(d))
    assert result.code == ExitCode.CHANGES
    (found,) = [p for p in problems(result) if p[1] == "test mode"]
    assert found[0] == "main"
    assert "expired at 2026-01-01 06:00 UTC" in found[2]
