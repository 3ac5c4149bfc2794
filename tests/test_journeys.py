"""Callers' journeys through the shipped lines.yaml after a real apply (severity minor).

The real program is applied once per module through the engine model to a Twilio double;
each test restores that applied account, places calls on the double's virtual clock and
asserts what the caller heard and did, step by step. Journeys that today's product gets
wrong are strict xfails naming the defect: the change that fixes it must remove the mark.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from infra.cli.status import ExitCode
from infra.model import LinesConfig, Severity
from tests.harness.cli_runner import failover
from tests.test_drift import ROOT, credentials
from tests.test_scenarios import Stack, lines, number, seed_account
from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import Answer, PrimaryOutcome
from tests.twilio_double.people import Caller
from tests.twilio_double.state import AccountState
from tests.twilio_double.voice import APPLICATION_ERROR, CallSpec, VoiceNetwork

ALERTS = "https://hooks.acme.example/failover"
CALLER = "+16285550199"
NUMBERS = {line.id: line.number for line in lines().lines}


def alerted() -> LinesConfig:
    """The shipped lines with ``alerts.webhook``: the entries stay static documents (alerts are
    sent by `failover status --notify` from Twilio's records, tests/test_outage.py), so no
    call ever waits for the webhook."""
    return dataclasses.replace(lines(), alerts_webhook=ALERTS)


SALES_FORWARD, MAIN_FORWARD = "+14155550188", "+14155550199"
DEFAULT_GREETING = "No one is available to take your call. Please leave a message after the tone."
GOODBYE = "Thank you for your message. Goodbye."
CONFIRM = "This is a forwarded call. Press any key to take it."
SALES_GREETING = (
    "Thanks for calling Acme sales. We can't take your call right now; leave your name and "
    "number and we'll call you back within one business day."
)
PRESS_MESSAGE = (
    "Our phone system is temporarily unavailable. Please email press@acme.example and we "
    "will reply today."
)
_TABLES = [
    f.name for f in dataclasses.fields(AccountState) if f.name not in ("account_sid", "sids")
]


class Applied:
    """A double with the program applied once; ``reset()`` brings that account back."""

    def __init__(self, double: TwilioDouble) -> None:
        self.double = double
        self.snapshot = {name: copy.deepcopy(getattr(double.state, name)) for name in _TABLES}

    def reset(self) -> TwilioDouble:
        d = self.double
        for name in _TABLES:
            setattr(d.state, name, copy.deepcopy(self.snapshot[name]))
        d.voice = VoiceNetwork(d.state, d.auth_token, d._lock, d.limits, d.voice.api)  # noqa: SLF001
        d.limits.reset()
        d.voice.internet.script(ALERTS, Answer(204))
        return d


def applied_double(
    spec_dir: Path, severity: Severity, config: LinesConfig | None = None
) -> Iterator[Applied]:
    """A double with ``config`` (default: the shipped lines.yaml, static entries) applied."""
    config = config if config is not None else lines()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TWILIO_REGION", raising=False)
        patch.delenv("TWILIO_EDGE", raising=False)
        with TwilioDouble(spec_dir=spec_dir) as d:
            seed_account(d, config)
            Stack(d).up(config, severity=severity)
            yield Applied(d)


def checked(applied: Applied) -> Iterator[TwilioDouble]:
    d = applied.reset()
    before = len(d.violations)
    yield d
    assert d.violations[before:] == [], d.explain()
    assert d.deletes_of_numbers() == []


@pytest.fixture(scope="module")
def minor(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.MINOR, alerted())


@pytest.fixture
def d(minor: Applied) -> Iterator[TwilioDouble]:
    yield from checked(minor)


def call(d: TwilioDouble, line: str, primary: Any = PrimaryOutcome.http_500, **script: Any) -> Any:
    return d.place_call(NUMBERS[line], CALLER, primary=primary, **script)


def alerts(d: TwilioDouble) -> list[dict[str, Any]]:
    """What a call itself posted to the alerts webhook: nothing, since alerts left the path."""
    return [json.loads(r["body"]) for r in d.voice.internet.requests_to(ALERTS)]


def monitor_alerts(d: TwilioDouble) -> list[dict[str, Any]]:
    """The Monitor alerts Twilio logged (what `failover status` reads)."""
    return list(d.state.alerts.values())


def steps(journey: Any) -> list[tuple[str, str]]:
    """The caller's steps without the bookkeeping ones (ring, studio, function, agent)."""
    hidden = {"ring", "studio", "function", "agent", "error"}
    return [(s.kind, s.text) for s in journey.steps if s.kind not in hidden]


# -- forward then voicemail (sales: 25 s to the answering service) -------------------------
def test_sales_forward_answered_connects_the_caller(d: TwilioDouble) -> None:
    journey = call(d, "sales", callees={SALES_FORWARD: "answer:6"})
    assert journey.outcome == "answered"
    assert journey.answered_by == SALES_FORWARD
    assert steps(journey) == [
        ("dial", f"{SALES_FORWARD} (timeout 25 s)"),
        ("whisper", f'{SALES_FORWARD} hears "{CONFIRM}", presses 1'),
        ("answered", f"by {SALES_FORWARD}"),
        ("talk", "60 s"),
    ]
    assert journey.recording_sid is None
    assert not d.state.recordings


@pytest.mark.parametrize(("callee", "after"), [("no-answer", 25), ("busy", 1), ("failed", 1)])
def test_sales_forward_not_answered_takes_a_voicemail(
    d: TwilioDouble, callee: str, after: int
) -> None:
    journey = call(d, "sales", callees={SALES_FORWARD: callee})
    (redirect,) = [text for kind, text in steps(journey) if kind == "redirect"]
    assert "/v/" in redirect  # the forward document's <Redirect> to the line's voicemail
    assert [step for step in steps(journey) if step[0] != "redirect"] == [
        ("dial", f"{SALES_FORWARD} (timeout 25 s)"),
        ("dial", f"{callee} after {after} s"),
        ("say", SALES_GREETING),
        ("beep", ""),
        ("record", "12 s message"),
        ("say", GOODBYE),
        ("hangup", ""),
    ]
    assert journey.outcome == "voicemail"
    recording = d.state.recordings[journey.recording_sid]
    assert (recording["call_sid"], recording["duration"]) == (journey.call_sid, "12")


def test_sales_voicemail_is_listed_by_failover_voicemails(d: TwilioDouble) -> None:
    journey = call(d, "sales", callees={SALES_FORWARD: "no-answer"})
    result = failover("voicemails", "--format", "json", cwd=ROOT, environ=credentials(d))
    assert result.code == ExitCode.OK, result.stderr
    assert journey.recording_sid in result.stdout
    assert CALLER in result.stdout


def test_forward_answered_by_the_callees_voicemail_counts_as_answered(d: TwilioDouble) -> None:
    """Without ``confirm`` Twilio reports a forward picked up by the callee's own voicemail as
    ``completed``: the message ends in that mailbox (main forwards without confirm)."""
    journey = call(d, "main", callees={MAIN_FORWARD: "voicemail"})
    assert journey.outcome == "answered"
    assert journey.answered_by == f"voicemail of {MAIN_FORWARD}"
    assert "beep" not in journey.kinds()
    assert not d.state.recordings  # nothing reached the line's own voicemail box


def test_forward_answered_by_a_voicemail_still_reaches_the_lines_voicemail(
    d: TwilioDouble,
) -> None:
    """Sales forwards with ``confirm: true``: the callee's voicemail hears the confirm
    whisper, presses nothing, the whisper hangs up, and the caller (who heard ringing) goes on
    to the line's own voicemail."""
    journey = call(d, "sales", callees={SALES_FORWARD: "voicemail"})
    assert steps(journey)[:3] == [
        ("dial", f"{SALES_FORWARD} (timeout 25 s)"),
        ("whisper", f'{SALES_FORWARD} hears "{CONFIRM}", presses nothing, hangs up'),
        ("dial", f"{SALES_FORWARD} did not take the call"),
    ]
    assert journey.said()[0] == SALES_GREETING
    assert journey.outcome == "voicemail"
    assert journey.recording_sid in d.state.recordings
    whisper = [r for r in journey.requests if "/c/" in r["url"]]
    assert [(r["method"], r["signed"]) for r in whisper] == [("GET", True)]


def test_main_forward_unanswered_then_voicemail_with_the_default_greeting(d: TwilioDouble) -> None:
    journey = call(d, "main", callees={MAIN_FORWARD: "no-answer"})
    assert journey.said() == [DEFAULT_GREETING, GOODBYE]
    assert journey.find("dial")[1].text == "no-answer after 20 s"
    assert journey.outcome == "voicemail"


def test_dana_forwards_to_her_last_forwarding_number(d: TwilioDouble) -> None:
    journey = call(d, "dana", callees={"+14155550124": "answer"})
    assert journey.find("dial")[0].text == "+14155550124 (timeout 20 s)"
    assert journey.answered_by == "+14155550124"


def test_gus_voicemail_greets_in_his_voice(d: TwilioDouble) -> None:
    journey = call(d, "gus", callees={"+442079460022": "busy"})
    assert journey.said()[0] == "Hej, this is Gus. Leave a message and I'll get back to you."
    assert journey.outcome == "voicemail"


# -- voicemail only, and what callers do in it ----------------------------------------------
def test_fay_voicemail_left(d: TwilioDouble) -> None:
    journey = call(d, "fay", caller=Caller(message_seconds=30))
    assert steps(journey) == [
        ("say", DEFAULT_GREETING),
        ("beep", ""),
        ("record", "30 s message"),
        ("say", GOODBYE),
        ("hangup", ""),
    ]
    assert d.state.recordings[journey.recording_sid]["duration"] == "30"


def test_a_silent_caller_leaves_no_recording_and_is_hung_up(d: TwilioDouble) -> None:
    journey = call(d, "fay", caller=Caller(message_seconds=0))
    assert steps(journey)[-2:] == [("record", "nothing said: empty recording"), ("hangup", "")]
    assert journey.recording_sid is None and not d.state.recordings


def test_a_caller_hanging_up_during_the_greeting_leaves_nothing(d: TwilioDouble) -> None:
    journey = call(d, "fay", caller=Caller(hangup_after=3))
    assert journey.outcome == "caller-hung-up"
    assert not d.state.recordings


def test_support_minor_is_voicemail_only(d: TwilioDouble) -> None:
    journey = call(d, "support")
    assert journey.said()[0].startswith("You've reached Acme support.")
    assert journey.outcome == "voicemail"
    assert "enqueue" not in journey.kinds()


# -- spoken message, secondary server -------------------------------------------------------
def test_press_hears_the_message_then_the_call_ends(d: TwilioDouble) -> None:
    journey = call(d, "press")
    assert steps(journey) == [
        ("say", PRESS_MESSAGE),
        ("hangup", ""),
    ]
    assert journey.outcome == "message"


def test_billing_secondary_server_up_serves_the_caller(d: TwilioDouble) -> None:
    secondary = "https://backup-voice.acme.example/billing"
    d.voice.internet.script(
        secondary, Answer.twiml("<Response><Say>Billing backup.</Say></Response>")
    )
    journey = call(d, "billing")
    assert journey.said() == ["Billing backup."]
    (request,) = [r for r in journey.requests if r["url"] == secondary]
    assert request["method"] == "POST" and request["signed"]
    assert request["params"]["CallSid"] == journey.call_sid


def test_billing_secondary_server_down_gives_the_application_error(d: TwilioDouble) -> None:
    journey = call(d, "billing")  # nothing answers backup-voice.acme.example
    assert journey.outcome == "application-error"
    assert journey.said() == [APPLICATION_ERROR]
    assert alerts(d) == []  # no call posts alerts: `failover status --notify` does
    primary, secondary = sorted(monitor_alerts(d), key=lambda a: "backup-voice" in a["request_url"])
    assert (secondary["request_url"], secondary["error_code"]) == (
        "https://backup-voice.acme.example/billing", "11205",
    )  # fmt: skip
    assert primary["resource_sid"] == secondary["resource_sid"] == journey.call_sid


# -- what the primary did decides ErrorCode/ErrorUrl ----------------------------------------
@pytest.mark.parametrize(
    ("primary", "code", "waited"),
    [
        (PrimaryOutcome.http_500, "11200", 0),
        (PrimaryOutcome.refused, "11205", 0),
        (PrimaryOutcome.no_answer, "11205", 15),
        (PrimaryOutcome.invalid_twiml, "12100", 0),
    ],
)
def test_primary_failures_reach_the_fallback_with_twilios_error_code(
    d: TwilioDouble, primary: Any, code: str, waited: int
) -> None:
    journey = call(d, "fay", primary=primary)
    (fallback,) = [  # a GET document: the parameters are in its query
        dict(parse_qsl(urlsplit(r["url"]).query))
        for r in journey.requests
        if "ErrorCode=" in r["url"]
    ]
    assert fallback["ErrorCode"] == code
    assert fallback["ErrorUrl"] == number(d, NUMBERS["fay"])["voice_url"]
    assert journey.find("say")[0].at == waited
    assert journey.outcome == "voicemail"
    assert alerts(d) == []
    (alert,) = monitor_alerts(d)  # the same code and URL, in Twilio's own record
    assert (alert["error_code"], alert["request_url"]) == (code, fallback["ErrorUrl"])
    assert alert["resource_sid"] == journey.call_sid


def test_a_healthy_primary_never_reaches_the_failover(d: TwilioDouble) -> None:
    journey = call(d, "sales", primary=PrimaryOutcome.ok("<Response><Say>Acme.</Say></Response>"))
    assert journey.said() == ["Acme."]
    assert "studio" not in journey.kinds()
    assert alerts(d) == [] and monitor_alerts(d) == []


# -- alerts: off the caller's path ------------------------------------------------------------
def test_a_failover_with_alerts_on_is_recorded_by_twilio_not_posted_by_the_call(
    d: TwilioDouble,
) -> None:
    journey = call(d, "sales", callees={SALES_FORWARD: "no-answer"})
    assert "studio" not in journey.kinds() and "function" not in journey.kinds()
    assert alerts(d) == []
    (alert,) = monitor_alerts(d)
    assert (alert["resource_sid"], alert["error_code"]) == (journey.call_sid, "11200")
    assert alert["request_url"] == "https://voice.acme.example/sales"


@pytest.mark.parametrize("webhook", [Answer(refused=True), Answer(500), Answer(200, delay=30)])
def test_a_broken_alert_webhook_never_stops_the_caller(d: TwilioDouble, webhook: Answer) -> None:
    d.voice.internet.script(ALERTS, webhook)
    journey = call(d, "press")
    assert journey.said() == [PRESS_MESSAGE]
    assert journey.find("say")[0].at == 0  # nothing between the failed primary and the message
    assert d.voice.internet.requests_to(ALERTS) == []


# -- test mode --------------------------------------------------------------------------------
def test_test_mode_sends_every_call_straight_to_the_failover(d: TwilioDouble) -> None:
    journey = d.place_call(NUMBERS["eli"], CALLER, callees={"+14155550130": "no-answer"})
    assert journey.find("error") == []  # the primary *is* the failover: nothing failed
    assert journey.find("dial")[0].text == "+14155550130 (timeout 20 s)"
    assert journey.outcome == "voicemail"
    assert alerts(d) == [] and monitor_alerts(d) == []  # test mode is not an outage


def test_with_alerts_on_a_mass_outage_past_studios_rate_still_serves_every_caller(
    d: TwilioDouble,
) -> None:
    """Studio starts at most 100 new inbound executions a second per account; past that Twilio
    requests the number's fallback URL, and a flow-backed line's fallback *was* the flow, so the
    third caller heard the application error. With alerts off the path no Studio is on it: the
    rate is lowered to 2 and three simultaneous callers are all served."""
    d.limits.set(studio_inbound_executions_per_second=2)
    specs = [
        CallSpec(NUMBERS["sales"], f"+1628555020{i}", PrimaryOutcome.http_500, Caller())
        for i in range(3)
    ]
    journeys = d.voice.place_calls(specs, callees={SALES_FORWARD: "answer:6"})
    assert [j.outcome for j in journeys] == ["answered", "answered", "answered"]
    assert not any("Studio" in s.text for j in journeys for s in j.steps)
    assert len(monitor_alerts(d)) == 3  # each failover is in Twilio's records for `status`
