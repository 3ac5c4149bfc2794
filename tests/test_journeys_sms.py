"""SMS fallback and failover.method end to end: the real program through the engine model against
the Twilio double, then messages and calls to the numbers it configured.

A message to a number whose SMS URL fails (HTTP 500, no answer within 15 s) makes Twilio request
the number's SMS fallback (https://www.twilio.com/docs/usage/security/availability-reliability):
the sender gets the line's reply from its protected document, or the secondary messaging server
answers. Removing `sms` restores what the number had, and nothing is ever released.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from infra.cli.status import ExitCode
from infra.model import LinesConfig
from tests.harness.cli_runner import failover
from tests.test_scenarios import Stack, lines, number
from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import Answer, PrimaryOutcome

REPLY = "Our systems are down; we will text you back within the hour."
SMS_SERVER = "https://sms-backup.acme.example/billing"
VOICE_SERVER = "https://backup-voice.acme.example/billing"
OLD_SMS_FALLBACK = "https://old-sms.acme.example/fallback"
SENDER = "+15551230000"
FILE = f"""\
version: 1
account: {{name: acme}}
defaults:
  sms: {{reply: "{REPLY}"}}
lines:
  - id: sales
    type: department
    number: "+14155550101"
    primary: https://voice.acme.example/sales
    failover: {{forward: "+14155550188"}}
  - id: billing
    type: department
    number: "+14155550102"
    failover: {{url: {VOICE_SERVER}, method: GET}}
    sms: {{url: {SMS_SERVER}, method: GET}}
  - id: press
    type: department
    number: "+14155550104"
    failover: {{message: "We are offline."}}
"""
NUMBERS = {"sales": "+14155550101", "billing": "+14155550102", "press": "+14155550104"}


def config(text: str = FILE) -> LinesConfig:
    return lines(text)


def seed(double: TwilioDouble) -> None:
    for line, e164 in NUMBERS.items():
        double.seed_number(
            e164, voice_url=f"https://legacy.acme.example/voice/{line}",
            sms_url=f"https://legacy.acme.example/sms/{line}",
            sms_fallback_url=OLD_SMS_FALLBACK, sms_fallback_method="POST",
        )  # fmt: skip


@pytest.fixture
def stack(twilio_double: TwilioDouble) -> Stack:
    seed(twilio_double)
    return Stack(twilio_double)


def test_a_message_to_a_number_whose_sms_url_fails_gets_the_reply(stack: Stack) -> None:
    run = stack.up(config())
    d = stack.double
    sales = number(d, NUMBERS["sales"])
    assert sales["sms_fallback_method"] == "GET"
    assert sales["sms_fallback_url"] == run.outputs["sms"]["sales"]
    assert sales["sms_url"] == "https://legacy.acme.example/sms/sales"  # never ours
    assert number(d, NUMBERS["press"])["sms_fallback_url"] == sales["sms_fallback_url"]  # shared

    for failure in ("http_500", "no_answer", "refused"):
        journey = d.send_message(NUMBERS["sales"], SENDER, "Is my order shipped?", primary=failure)
        assert journey.reply_texts() == [REPLY], (failure, str(journey))
        assert journey.replies[0].to == SENDER and journey.replies[0].from_ == NUMBERS["sales"]
        fallback = journey.requests[-1]
        assert (fallback["method"], fallback["served_by"], fallback["signed"]) == (
            "GET",
            "serverless",
            True,
        )
        sent = dict(parse_qsl(urlsplit(fallback["url"]).query))
        assert sent["ErrorUrl"] == "https://legacy.acme.example/sms/sales"
        assert sent["ErrorCode"] in {"11200", "11205"}
        assert (sent["From"], sent["To"], sent["Body"]) == (
            SENDER,
            NUMBERS["sales"],
            "Is my order shipped?",
        )
        assert sent["MessageSid"].startswith("SM")

    # While the SMS URL works, its own answer is the only reply.
    ok = d.send_message(
        NUMBERS["sales"], SENDER, "hi",
        primary=Answer.twiml("<Response><Message>Hello from the primary.</Message></Response>"),
    )  # fmt: skip
    assert ok.reply_texts() == ["Hello from the primary."] and not ok.used_fallback


def test_the_secondary_messaging_server_and_the_voice_fallback_get_their_methods(
    stack: Stack,
) -> None:
    stack.up(config())
    d = stack.double
    billing = number(d, NUMBERS["billing"])
    assert (billing["sms_fallback_url"], billing["sms_fallback_method"]) == (SMS_SERVER, "GET")
    assert (billing["voice_fallback_url"], billing["voice_fallback_method"]) == (
        VOICE_SERVER,
        "GET",
    )

    d.voice.internet.script(
        SMS_SERVER, Answer.twiml("<Response><Message>Backup here.</Message></Response>")
    )
    journey = d.send_message(NUMBERS["billing"], SENDER, "hello", primary="http_500")
    assert journey.reply_texts() == ["Backup here."]
    assert journey.requests[-1]["method"] == "GET"
    assert journey.requests[-1]["url"].startswith(SMS_SERVER + "?")

    d.voice.internet.script(
        VOICE_SERVER, Answer.twiml("<Response><Say>Billing backup.</Say></Response>")
    )
    call = d.place_call(NUMBERS["billing"], SENDER, primary=PrimaryOutcome.http_500)
    (request,) = [r for r in call.requests if r["url"].startswith(VOICE_SERVER)]
    assert request["method"] == "GET"
    assert "Billing backup." in " ".join(call.said())


def test_rerun_writes_nothing_and_removing_sms_restores_what_the_numbers_had(stack: Stack) -> None:
    stack.up(config())
    stack.up(config())
    assert stack.writes["IncomingPhoneNumber.update"] == 0

    # defaults.sms removed: sales and press get their old SMS fallback back; billing keeps its own.
    without_default = FILE.replace(f'defaults:\n  sms: {{reply: "{REPLY}"}}\n', "")
    run = stack.up(config(without_default))
    d = stack.double
    for line in ("sales", "press"):
        record = number(d, NUMBERS[line])
        assert (record["sms_fallback_url"], record["sms_fallback_method"]) == (
            OLD_SMS_FALLBACK,
            "POST",
        )
    assert number(d, NUMBERS["billing"])["sms_fallback_url"] == SMS_SERVER
    assert run.outputs["sms"] == {"billing": SMS_SERVER}
    journey = d.send_message(NUMBERS["sales"], SENDER, "hi", primary="http_500")
    assert journey.requests[-1]["url"].startswith(OLD_SMS_FALLBACK)

    # The billing line removed: its number's SMS and voice fallbacks come back, not released.
    only_two = (
        without_default.split("  - id: billing")[0]
        + "  - id: press"
        + without_default.split("  - id: press")[1]
    )
    stack.up(config(only_two), allow_removals=True)
    billing = number(d, NUMBERS["billing"])
    assert (billing["sms_fallback_url"], billing["sms_fallback_method"]) == (
        OLD_SMS_FALLBACK,
        "POST",
    )
    assert billing["voice_fallback_url"] in ("", None)
    assert d.deletes_of_numbers() == []


def test_a_number_without_an_sms_url_is_refused_with_21406_and_its_line_is_not_adopted(
    twilio_double: TwilioDouble,
) -> None:
    seed(twilio_double)
    twilio_double.edit_number(NUMBERS["press"], sms_url="")
    stack = Stack(twilio_double)
    with pytest.raises(Exception, match=r"(?s)press.*has no SMS URL.*error 21406"):
        stack.up(config())
    press = number(twilio_double, NUMBERS["press"])
    assert press["sms_fallback_url"] == OLD_SMS_FALLBACK
    assert press["voice_fallback_url"] is None  # the failed line adopted nothing
    # Without an SMS URL nothing answers the message: the sender gets no reply at all.
    journey = twilio_double.send_message(NUMBERS["press"], SENDER, "hi")
    assert (journey.outcome, journey.requests, journey.replies) == ("error", [], [])

    # `sms: {off: true}` keeps that line out of defaults.sms: the next run succeeds.
    off = FILE.replace(
        'failover: {message: "We are offline."}',
        'failover: {message: "We are offline."}\n    sms: {off: true}',
    )
    stack.up(config(off))
    press = number(twilio_double, NUMBERS["press"])
    assert press["sms_fallback_url"] == OLD_SMS_FALLBACK and press["voice_fallback_url"]
    assert number(twilio_double, NUMBERS["sales"])["sms_fallback_method"] == "GET"


def test_drift_names_the_sms_fallback_and_the_voice_method_a_console_edit_changed(
    stack: Stack, tmp_path: Path
) -> None:
    (tmp_path / "lines.yaml").write_text(FILE)
    stack.up(config())
    d = stack.double
    environ = {
        "TWILIO_ACCOUNT_SID": d.account_sid,
        "TWILIO_AUTH_TOKEN": d.auth_token,
        "TWILIO_API_BASE_URL": d.base_url,
    }

    def drift() -> tuple[ExitCode, list[dict[str, str]]]:
        result = failover("drift", "--format", "json", cwd=tmp_path, environ=environ)
        return result.code, json.loads(result.stdout)["differences"]

    assert drift() == (ExitCode.OK, [])
    wanted = number(d, NUMBERS["sales"])["sms_fallback_url"]
    d.edit_number(NUMBERS["sales"], sms_fallback_url="https://console.example/sms")
    d.edit_number(NUMBERS["billing"], voice_fallback_method="POST", sms_fallback_method="POST")
    d.edit_number(NUMBERS["press"], sms_url="")
    code, found = drift()
    assert code == ExitCode.CHANGES
    assert found == [
        {
            "subject": "sales",
            "field": "sms_fallback_url",
            "message": "SMS fallback URL differs from lines.yaml",
            "wanted": wanted,
            "live": "https://console.example/sms",
        },
        {
            "subject": "billing",
            "field": "voice_fallback_method",
            "message": "fallback method differs from lines.yaml",
            "wanted": "GET",
            "live": "POST",
        },
        {
            "subject": "billing",
            "field": "sms_fallback_method",
            "message": "SMS fallback method differs from lines.yaml",
            "wanted": "GET",
            "live": "POST",
        },
        {
            "subject": "press",
            "field": "sms_url",
            "message": "the number has no SMS URL: Twilio refuses an SMS fallback without one "
            "(error 21406); set the number's SMS URL",
        },
    ]
