"""The double's inbound messages (tests/twilio_double/messaging.py) and its 21406 refusal."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import Answer

NUMBER = "+14155550100"
SENDER = "+15551230000"
PRIMARY = "https://app.example.com/sms"
FALLBACK = "https://backup.example.com/sms"


def seeded(d: TwilioDouble, **fields: Any) -> dict[str, Any]:
    return d.seed_number(
        NUMBER, voice_url="https://app.example.com/voice", sms_url=PRIMARY,
        sms_fallback_url=FALLBACK, sms_fallback_method="POST", **fields,
    )  # fmt: skip


def test_fallback_without_sms_url_is_21406(twilio_double: TwilioDouble, twilio_client: Any) -> None:
    record = twilio_double.seed_number(NUMBER, voice_url="https://app.example.com/voice")
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.api.v2010.account.incoming_phone_numbers(record["sid"]).update(
            sms_fallback_url=FALLBACK
        )
    assert (raised.value.status, raised.value.code) == (400, 21406)
    twilio_client.api.v2010.account.incoming_phone_numbers(record["sid"]).update(
        sms_url=PRIMARY, sms_fallback_url=FALLBACK, sms_fallback_method="GET"
    )  # both in one request is accepted
    assert twilio_double.state.numbers[record["sid"]]["sms_fallback_method"] == "GET"


def test_a_working_sms_url_answers_and_the_fallback_is_not_requested(
    twilio_double: TwilioDouble,
) -> None:
    seeded(twilio_double)
    answer = Answer.twiml("<Response><Message><Body>Got it.</Body></Message></Response>")
    journey = twilio_double.send_message(NUMBER, SENDER, "hello", primary=answer)
    assert journey.reply_texts() == ["Got it."]
    assert [r["url"] for r in journey.requests] == [PRIMARY]
    assert journey.requests[0]["params"]["Body"] == "hello"
    assert journey.requests[0]["params"]["SmsStatus"] == "received"


def test_a_failing_sms_url_requests_the_fallback_with_error_code_and_url(
    twilio_double: TwilioDouble,
) -> None:
    seeded(twilio_double)
    twilio_double.voice.internet.script(
        FALLBACK,
        Answer.twiml(
            '<Response><Say>nope</Say><Message to="+15550001111">To the on-call phone</Message>'
            "<Redirect>/sms/next</Redirect></Response>"
        ),
    )
    twilio_double.voice.internet.script(
        "https://backup.example.com/sms/next",
        Answer.twiml("<Response><Message>Second</Message></Response>"),
    )
    journey = twilio_double.send_message(NUMBER, SENDER, "hello", primary="invalid_twiml")
    assert journey.used_fallback
    fallback = journey.requests[1]
    assert (fallback["url"], fallback["method"]) == (FALLBACK, "POST")
    assert (fallback["params"]["ErrorCode"], fallback["params"]["ErrorUrl"]) == ("12100", PRIMARY)
    assert [(s.to, s.body) for s in journey.replies] == [
        ("+15550001111", "To the on-call phone"),
        (SENDER, "Second"),
    ]
    assert any(e.startswith("14110 <Say>") for e in journey.errors)


def test_when_the_fallback_fails_too_the_sender_gets_nothing(twilio_double: TwilioDouble) -> None:
    seeded(twilio_double)  # FALLBACK is not scripted: the connection is refused
    journey = twilio_double.send_message(NUMBER, SENDER, "hello", primary="http_500")
    assert (journey.outcome, journey.replies) == ("error", [])
    assert [r["url"] for r in journey.requests] == [PRIMARY, FALLBACK]


def test_a_number_with_an_sms_application_is_not_simulated(twilio_double: TwilioDouble) -> None:
    seeded(twilio_double, sms_application_sid="AP" + "1" * 32)
    journey = twilio_double.send_message(NUMBER, SENDER, "hello", primary="http_500")
    assert journey.requests == [] and "not simulated" in journey.errors[0]
