"""``failover status`` and its alerts (``--notify``), end to end against the Twilio double.

The shipped lines.yaml is applied once (static entries, no Studio); calls are placed with a
failing primary, so the double logs Monitor alerts the way Twilio documents them
(``tests/twilio_double/monitor.py``). ``status`` must name the failing line, its primary, the
calls and since when, then "restored" once the primary answers again; ``--notify`` must
reach a loopback webhook signed, deduplicated, with line/ErrorCode/ErrorUrl, and tell of each
voicemail left through failover.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from infra.account.outage import Alert, CallRecord, outages, sentence
from infra.alerts import SIGNATURE_HEADER, verify
from infra.cli.status import ExitCode
from infra.model import Severity
from tests.harness.cli_runner import Result, failover
from tests.test_drift import ROOT, credentials, shipped
from tests.test_journeys import Applied, applied_double, checked
from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import PrimaryOutcome
from tests.twilio_double.people import Caller

SECRET = "s3cret-for-the-alerts-0123456789"  # noqa: S105 - a test value
CALLER = "+16285550199"
MAIN, BILLING = "+14155550100", "+14155550102"
MAIN_PRIMARY = "https://voice.acme.example/main"


@dataclass
class Hook:
    """A loopback webhook that records what it receives (body and headers)."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 204

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state: dict[str, Hook] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["hook"].received.append((dict(self.headers), body))
            self.send_response(state["hook"].status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["hook"] = Hook(f"http://127.0.0.1:{server.server_address[1]}/failover")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["hook"]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def minor(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.MINOR)


@pytest.fixture
def d(minor: Applied) -> Iterator[TwilioDouble]:
    yield from checked(minor)


def status(d: TwilioDouble, *args: str, secret: str | None = SECRET, cwd: Path = ROOT) -> Result:
    environ = credentials(d)
    if secret is not None:
        environ["FAILOVER_ALERT_SECRET"] = secret
    return failover("status", *args, cwd=cwd, environ=environ)


def notify(d: TwilioDouble, hook: Hook, state: Path, *args: str) -> Result:
    return status(d, "--notify", "--webhook", hook.url, "--state", str(state), *args)


def fail_calls(d: TwilioDouble, number: str, count: int) -> list[Any]:
    return [
        d.place_call(
            number, CALLER, primary=PrimaryOutcome.http_500, caller=Caller(message_seconds=9)
        )
        for _ in range(count)
    ]


def hhmm(record: dict[str, Any]) -> str:
    return datetime.fromisoformat(record["date_created"].replace("Z", "+00:00")).strftime(
        "%H:%M UTC"
    )


def main_alerts(d: TwilioDouble) -> list[dict[str, Any]]:
    return sorted(
        (a for a in d.state.alerts.values() if a["request_url"] == MAIN_PRIMARY),
        key=lambda a: a["date_created"],
    )


def test_the_double_logs_a_documented_alert_for_a_failed_primary(d: TwilioDouble) -> None:
    (journey,) = fail_calls(d, MAIN, 1)
    (alert,) = d.state.alerts.values()
    assert (alert["error_code"], alert["request_url"], alert["request_method"]) == (
        "11200", MAIN_PRIMARY, "POST",
    )  # fmt: skip
    assert (alert["resource_sid"], alert["log_level"]) == (journey.call_sid, "error")
    assert alert["more_info"] == "https://www.twilio.com/docs/errors/11200"
    listed = d.client().monitor.v1.alerts.list(log_level="error")
    assert [a.sid for a in listed] == [alert["sid"]]
    assert d.client().monitor.v1.alerts(alert["sid"]).fetch().request_url == MAIN_PRIMARY


def test_status_names_the_failing_line_then_restored(d: TwilioDouble) -> None:
    assert status(d) == Result(ExitCode.OK, status(d).stdout, "")
    assert status(d).stdout.startswith("0 lines failing over now")
    fail_calls(d, MAIN, 3)
    fail_calls(d, BILLING, 1)  # no primary declared: found through the call's number
    alerts = main_alerts(d)
    result = status(d)
    assert (result.code, result.stderr) == (ExitCode.CHANGES, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2 lines failing over now (Twilio's records of the last 24 h")
    assert (
        f"main: failing over since {hhmm(alerts[0])}, 3 calls (11200 from {MAIN_PRIMARY}), last {hhmm(alerts[-1])}"
        in lines
    )
    assert any(
        line.startswith("billing: failing over since ") and "1 call (11200 from https://" in line
        for line in lines
    )

    d.place_call(MAIN, CALLER, primary=PrimaryOutcome.ok())  # the primary is back
    result = status(d, "--format", "json")
    assert result.code == ExitCode.CHANGES  # billing still fails over
    by_line = {r["line"]: r for r in json.loads(result.stdout)["lines"]}
    assert by_line["main"]["state"] == "restored" and by_line["main"]["restored_at"]
    assert (by_line["main"]["calls"], by_line["main"]["error_code"]) == (3, "11200")
    assert by_line["main"]["error_url"] == MAIN_PRIMARY
    assert by_line["billing"]["state"] == "failing"
    markdown = status(d, "--format", "markdown").stdout
    assert "| `main` | restored |" in markdown and "| `billing` | failing |" in markdown


def test_alerts_are_signed_deduplicated_and_say_restored(
    d: TwilioDouble, hook: Hook, tmp_path: Path
) -> None:
    state = tmp_path / "alerts.json"
    assert notify(d, hook, state).code == ExitCode.OK  # nothing yet: state starts watching
    assert hook.received == []
    journeys = fail_calls(d, MAIN, 2)
    result = notify(d, hook, state)
    assert (result.code, result.stderr) == (ExitCode.CHANGES, "")
    events = [b["event"] for b in hook.bodies()]
    assert events.count("failover") == 1 and set(events) <= {"failover", "voicemail"}
    for headers, body in hook.received:
        assert verify(SECRET, body, headers[SIGNATURE_HEADER])
        assert not verify("another-secret-0123456789", body, headers[SIGNATURE_HEADER])
    (alert,) = [b for b in hook.bodies() if b["event"] == "failover"]
    assert (alert["line"], alert["number"], alert["calls"]) == ("main", MAIN, 2)
    assert (alert["error_code"], alert["error_url"]) == ("11200", MAIN_PRIMARY)
    for journey in journeys:  # what the fallback request itself received from Twilio
        (sent,) = [
            dict(parse_qsl(urlsplit(r["url"]).query))
            for r in journey.requests
            if "ErrorCode=" in r["url"]
        ]
        assert (sent["ErrorCode"], sent["ErrorUrl"]) == (alert["error_code"], alert["error_url"])
    voicemails = [b for b in hook.bodies() if b["event"] == "voicemail"]
    assert len(voicemails) == 2
    recordings = {r["sid"]: r for r in d.state.recordings.values()}
    for notice in voicemails:
        recording = recordings[notice["recording_sid"]]
        assert (notice["line"], notice["caller"]) == ("main", CALLER)
        assert notice["duration_s"] == int(recording["duration"]) > 0
        assert notice["recording_url"] == recording["media_url"]

    hook.received.clear()
    fail_calls(d, MAIN, 1)
    assert notify(d, hook, state).code == ExitCode.CHANGES
    assert [b["event"] for b in hook.bodies()] == ["voicemail"]  # no summary before 15 min

    hook.received.clear()
    saved = json.loads(state.read_text())
    earlier = datetime.now(UTC) - timedelta(minutes=16)
    saved["lines"]["main"]["notified"] = earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
    state.write_text(json.dumps(saved))
    assert notify(d, hook, state).code == ExitCode.CHANGES
    (summary,) = hook.bodies()
    assert (summary["event"], summary["calls"], summary["new_calls"]) == ("summary", 3, 1)

    hook.received.clear()
    d.place_call(MAIN, CALLER, primary=PrimaryOutcome.ok())
    assert notify(d, hook, state).code == ExitCode.OK
    (restored,) = hook.bodies()
    assert (restored["event"], restored["line"], restored["confirmed"]) == (
        "restored",
        "main",
        True,
    )
    assert notify(d, hook, state).code == ExitCode.OK
    assert len(hook.received) == 1  # told once
    assert SECRET not in state.read_text()


def test_an_undelivered_alert_is_sent_again_by_the_next_run(
    d: TwilioDouble, hook: Hook, tmp_path: Path
) -> None:
    state = tmp_path / "alerts.json"
    notify(d, hook, state)
    fail_calls(d, MAIN, 1)
    hook.status = 500
    result = notify(d, hook, state)
    assert result.code == ExitCode.ERROR
    assert "alert failover (main) not delivered: the webhook answered HTTP 500" in result.stderr
    hook.status = 204
    hook.received.clear()
    assert notify(d, hook, state).code == ExitCode.CHANGES
    assert [b["event"] for b in hook.bodies()].count("failover") == 1


def test_slack_payload_and_dry_run(d: TwilioDouble, hook: Hook, tmp_path: Path) -> None:
    text = (ROOT / "lines.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "agents:\n",
        "alerts: {webhook: https://hooks.acme.example/failover, payload: slack}\n\nagents:\n",
        1,
    )
    (tmp_path / "lines.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    state = tmp_path / "alerts.json"
    args = ("--notify", "--webhook", hook.url, "--state", str(state))
    assert status(d, *args, cwd=tmp_path).code == ExitCode.OK
    fail_calls(d, MAIN, 1)
    dry = status(d, *args, "--dry-run", secret=None, cwd=tmp_path)
    assert dry.code == ExitCode.CHANGES
    assert "alert would send: failover: main: failing over since" in dry.stdout
    assert hook.received == []
    assert status(d, *args, cwd=tmp_path).code == ExitCode.CHANGES
    bodies = hook.bodies()
    assert all(set(b) == {"text"} for b in bodies)
    assert any(b["text"].startswith("main: failing over since") for b in bodies)


def test_notify_needs_the_secret_and_never_prints_it(
    d: TwilioDouble, hook: Hook, tmp_path: Path
) -> None:
    result = status(d, "--notify", "--webhook", hook.url, secret=None)
    assert result.code == ExitCode.ERROR
    assert "FAILOVER_ALERT_SECRET" in result.stderr and "failover:alertSecret" in result.stderr
    short = status(d, "--notify", "--webhook", hook.url, secret="short")
    assert short.code == ExitCode.ERROR and "short" not in short.stderr.replace("(it has 5)", "")
    assert (
        "not delivered"
        not in status(
            d, "--notify", "--webhook", hook.url, "--state", str(tmp_path / "s.json")
        ).stderr
    )
    assert (
        SECRET
        not in status(
            d,
            "--notify",
            "--webhook",
            hook.url,
            "--state",
            str(tmp_path / "s.json"),
            "--format",
            "json",
        ).stdout
    )


def test_the_state_file_may_live_in_a_new_folder(
    d: TwilioDouble, hook: Hook, tmp_path: Path
) -> None:
    state = tmp_path / ".failover" / "alerts.json"
    assert notify(d, hook, state).code == ExitCode.OK
    assert json.loads(state.read_text())["format"] == "failover-alerts/1"
    assert sorted(p.name for p in state.parent.iterdir()) == ["alerts.json"]


def test_a_state_file_failover_did_not_write_is_left_alone(
    d: TwilioDouble, hook: Hook, tmp_path: Path
) -> None:
    other = tmp_path / "notes.json"
    other.write_text('{"mine": true}\n')
    result = notify(d, hook, other)
    assert result.code == ExitCode.ERROR and "not a state file failover wrote" in result.stderr
    assert other.read_text() == '{"mine": true}\n'
    folder = notify(d, hook, tmp_path)  # a directory: refused with a message, no traceback
    assert folder.code == ExitCode.ERROR and "not a state file failover wrote" in folder.stderr


def test_a_quiet_line_is_not_called_restored(d: TwilioDouble) -> None:
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    for minutes in (0, 5):
        d.seed_alert(
            error_code=11205,
            request_url=MAIN_PRIMARY,
            date_created=old + timedelta(minutes=minutes),
        )
    result = status(d)
    assert result.code == ExitCode.OK
    assert "main: no failed call since " in result.stdout
    assert "2 calls (11205 from https://voice.acme.example/main)" in result.stdout
    assert status(d, "--since", "90m").stdout.startswith("0 lines failing over now")


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "0h"],
        ["--since", "31d"],
        ["--webhook", "https://u:p@x.example/"],
        ["--webhook", "http://hooks.example.com/x"],
    ],
)
def test_bad_arguments(d: TwilioDouble, args: list[str]) -> None:
    assert status(d, *args).code == ExitCode.USAGE


def test_plan_says_what_alerts_are_sent_and_when(tmp_path: Path) -> None:
    text = (ROOT / "lines.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "agents:\n",
        "alerts: {webhook: https://hooks.acme.example/failover, summary_every: 30}\n\nagents:\n",
        1,
    )
    (tmp_path / "lines.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    plain = failover("plan", cwd=tmp_path)
    assert plain.code == ExitCode.OK
    (sentence,) = [line for line in plain.stdout.splitlines() if line.startswith("alerts: ")]
    assert (
        "`failover status --notify` (not the calls) POSTs JSON to https://hooks.acme.example/failover"
        in sentence
    )
    assert "X-Failover-Signature" in sentence and "a summary every 30 min" in sentence
    assert "each voicemail left through failover" in sentence
    document = json.loads(failover("plan", "--format", "json", cwd=tmp_path).stdout)
    assert document["alerts"]["events"] == ["failover", "summary", "restored", "voicemail"]
    assert document["alerts"]["summary_every_minutes"] == 30
    assert (
        "Alerts: a scheduled `failover status --notify`"
        in failover("plan", "--format", "markdown", cwd=tmp_path).stdout
    )
    assert "alerts" not in json.loads(failover("plan", "--format", "json", cwd=ROOT).stdout)


# -- the rules, without the double ------------------------------------------------------------
T0 = datetime(2026, 12, 3, 9, 12, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def record(sid: str, url: str, minutes: float, call: str = "", code: str = "11200") -> Alert:
    return Alert(sid, code, url, call, at(minutes))


def test_alerts_on_our_entries_or_the_secondary_are_not_a_failover_of_the_primary() -> None:
    config = shipped()
    billing = config.line("billing")
    calls = [CallRecord("CA1", billing.number, "completed", at(0))]
    alerts = [
        record("NO1", "https://acme-failover-dev-1234-shared.twil.io/v/default.xml", 0, "CA1"),
        record("NO2", billing.url or "", 0, "CA1", "11205"),
    ]
    assert outages(config.lines, alerts, calls, at(1), timedelta(minutes=15)) == []


def test_a_primary_several_lines_share_names_no_line_without_the_call() -> None:
    config = shipped()
    main = config.line("main")
    twin = dataclasses.replace(config.line("sales"), primary=main.primary)
    lines = [main, twin]
    alerts = [record("NO1", main.primary or "", 0)]  # resource_sid unknown
    assert outages(lines, alerts, [], at(1), timedelta(minutes=15)) == []
    (only,) = outages([main], alerts, [], at(1), timedelta(minutes=15))
    assert (only.line.id, only.state, only.error_code) == ("main", "failing", "11200")


def test_an_answered_call_ends_an_episode_and_the_next_failure_starts_one() -> None:
    config = shipped()
    main = config.line("main")
    calls = [
        CallRecord("CA1", main.number, "completed", at(0)),
        CallRecord("CA2", main.number, "completed", at(10)),  # the primary answered
        CallRecord("CA3", main.number, "completed", at(20)),
        CallRecord("CA4", main.number, "in-progress", at(30)),  # not finished: proves nothing
    ]
    alerts = [record("NO1", "x", 0, "CA1"), record("NO3", "y", 20, "CA3", "11205")]
    (outage,) = outages(config.lines, alerts, calls, at(31), timedelta(minutes=15))
    assert (outage.state, outage.since, outage.calls) == ("failing", at(20), frozenset({"CA3"}))
    assert (outage.error_code, outage.error_url) == ("11205", "y")
    (later,) = outages(config.lines, alerts, calls, at(36), timedelta(minutes=15))
    assert later.state == "quiet"
    assert sentence(later, at(36)).startswith("main: no failed call since 09:32 UTC")
