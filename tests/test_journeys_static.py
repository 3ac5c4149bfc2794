"""Callers' journeys through the shipped lines.yaml as 0.3 deploys it: static documents only.

Every failover entry is a protected Serverless Asset (``infra.routing``): no Studio flow and no
Function between a failed primary and the caller. These journeys run the real program through
the engine model against the Twilio double, then place calls on its virtual clock.
(``tests/test_journeys.py`` covers stacks with ``alerts.webhook``, whose entries are flows.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from infra.model import Severity
from tests.test_journeys import (
    CALLER,
    CONFIRM,
    DEFAULT_GREETING,
    GOODBYE,
    MAIN_FORWARD,
    NUMBERS,
    PRESS_MESSAGE,
    SALES_FORWARD,
    SALES_GREETING,
    Applied,
    checked,
    steps,
)
from tests.test_scenarios import Stack, lines, number, seed_account
from tests.twilio_double import TwilioDouble, runtime
from tests.twilio_double.internet import Fetched, PrimaryOutcome
from tests.twilio_double.people import Caller
from tests.twilio_double.voice import APPLICATION_ERROR, CallSpec


@pytest.fixture(scope="module")
def applied(twilio_spec_dir: Path) -> Iterator[Applied]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TWILIO_REGION", raising=False)
        patch.delenv("TWILIO_EDGE", raising=False)
        with TwilioDouble(spec_dir=twilio_spec_dir) as d:
            seed_account(d, lines())
            Stack(d).up(lines(), severity=Severity.MINOR)
            yield Applied(d)


@pytest.fixture
def d(applied: Applied) -> Iterator[TwilioDouble]:
    yield from checked(applied)


def call(d: TwilioDouble, line: str, primary: Any = PrimaryOutcome.http_500, **script: Any) -> Any:
    return d.place_call(NUMBERS[line], CALLER, primary=primary, **script)


def _path(url: str) -> str:
    return "/" + url.split("?")[0].removeprefix("https://").partition("/")[2]


def test_no_studio_flow_and_every_entry_is_a_protected_document(d: TwilioDouble) -> None:
    assert d.state.flows == {}
    for line in lines().lines:
        fallback = number(d, line.number)
        if line.url is not None:
            assert (fallback["voice_fallback_url"], fallback["voice_fallback_method"]) == (
                line.url,
                "POST",
            )
            continue
        assert fallback["voice_fallback_url"].endswith(".xml"), line.id
        assert fallback["voice_fallback_method"] == "GET"


def test_forward_answered_connects_the_caller_without_studio(d: TwilioDouble) -> None:
    journey = call(d, "sales", callees={SALES_FORWARD: "answer:6"})
    assert journey.answered_by == SALES_FORWARD
    assert steps(journey)[:4] == [
        ("dial", f"{SALES_FORWARD} (timeout 25 s)"),
        ("whisper", f'{SALES_FORWARD} hears "{CONFIRM}", presses 1'),  # sales confirms
        ("answered", f"by {SALES_FORWARD}"),
        ("talk", "60 s"),
    ]
    assert "studio" not in journey.kinds() and "function" not in journey.kinds()


def test_a_confirmed_forward_answered_by_a_voicemail_reaches_the_lines_voicemail(
    d: TwilioDouble,
) -> None:
    """The confirm whisper and its key press are static documents on the shared domain
    (GET, signed): no Function or flow sits on the caller's path."""
    journey = call(d, "sales", callees={SALES_FORWARD: "voicemail"})
    assert journey.said()[0] == SALES_GREETING
    assert journey.outcome == "voicemail"
    assert journey.recording_sid in d.state.recordings
    whisper = [r for r in journey.requests if "/c/" in r["url"]]
    (request,) = whisper
    assert re.fullmatch(r"/c/[0-9a-f]{12}\.xml", _path(request["url"]))
    assert (request["method"], request["signed"]) == ("GET", True)
    assert "function" not in journey.kinds()


def test_a_confirmed_forward_answered_by_a_person_requests_the_accept_document(
    d: TwilioDouble,
) -> None:
    journey = call(d, "sales", callees={SALES_FORWARD: "answer"})
    paths = [_path(r["url"]) for r in journey.requests if "/c/" in r["url"]]
    assert len(paths) == 2 and paths[1] == "/c/accept.xml"
    assert journey.answered_by == SALES_FORWARD


@pytest.mark.parametrize(("callee", "after"), [("no-answer", 25), ("busy", 1), ("failed", 1)])
def test_forward_not_answered_takes_the_lines_voicemail(
    d: TwilioDouble, callee: str, after: int
) -> None:
    journey = call(d, "sales", callees={SALES_FORWARD: callee})
    (redirect,) = journey.find("redirect")
    assert "-shared.twil.io/v/" in redirect.text  # the line's own voicemail document
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
    assert d.state.recordings[journey.recording_sid]["call_sid"] == journey.call_sid


def test_main_default_greeting_comes_from_the_shared_document(d: TwilioDouble) -> None:
    journey = call(d, "main", callees={MAIN_FORWARD: "no-answer"})
    assert journey.said() == [DEFAULT_GREETING, GOODBYE]
    served = [_path(r["url"]) for r in journey.requests if r["served_by"] == "serverless"]
    assert served == ["/f/main.xml", "/v/default.xml", served[2]]
    assert served[2].startswith("/b/")  # the goodbye after the recording


def test_fay_voicemail_only_and_press_message(d: TwilioDouble) -> None:
    fay = call(d, "fay", caller=Caller(message_seconds=30))
    assert fay.said() == [DEFAULT_GREETING, GOODBYE]
    assert d.state.recordings[fay.recording_sid]["duration"] == "30"
    press = call(d, "press")
    assert [step for step in steps(press) if step[0] != "redirect"] == [
        ("say", PRESS_MESSAGE),
        ("hangup", ""),
    ]


def test_the_fallback_document_is_requested_with_twilios_error_code(d: TwilioDouble) -> None:
    journey = call(d, "fay", primary=PrimaryOutcome.refused)
    fallback = number(d, NUMBERS["fay"])["voice_fallback_url"]
    entry = next(r for r in journey.requests if r["url"].split("?")[0] == fallback)
    assert entry["method"] == "GET" and entry["signed"]
    query = dict(parse_qsl(entry["url"].partition("?")[2]))  # GET: parameters in the query
    assert (query["ErrorCode"], query["ErrorUrl"]) == (
        "11205",
        number(d, NUMBERS["fay"])["voice_url"],
    )
    assert journey.outcome == "voicemail"


def test_a_mass_outage_past_studios_rate_still_reaches_every_caller(d: TwilioDouble) -> None:
    """Studio starts at most 100 new inbound executions a second per account; a static entry
    does not use Studio, so a burst far past that rate (here lowered to 2) is unaffected."""
    d.limits.set(studio_inbound_executions_per_second=2)
    specs = [
        CallSpec(NUMBERS[line], f"+16285550{i:03d}", PrimaryOutcome.http_500, Caller())
        for i, line in enumerate(["sales", "main", "fay", "press"] * 10)
    ]
    journeys = d.voice.place_calls(
        specs, callees={SALES_FORWARD: "no-answer", MAIN_FORWARD: "busy"}
    )
    assert len(journeys) == 40
    assert all(j.outcome == "voicemail" for j in journeys if j.said()[0] != PRESS_MESSAGE)
    assert not any(APPLICATION_ERROR in text for j in journeys for _, text in steps(j))


def test_protected_documents_need_twilios_signature(d: TwilioDouble) -> None:
    url = number(d, NUMBERS["fay"])["voice_fallback_url"]
    domain, _, rest = url.removeprefix("https://").partition("/")
    path = "/" + rest
    assert path == "/v/default.xml"  # fay's voicemail is the shared default document
    assert d.voice.request(url, "GET", {}, signed=False).status == 401
    forged = Fetched(url, "GET", {}, signature="forged")
    served = runtime.serve(d.state, d.auth_token, d.voice.internet, forged, domain, path, url)
    assert served.status == 401
    signed = d.voice.request(url, "GET", {})
    assert signed.status == 200 and signed.body.startswith("<?xml")
    assert d.voice.request(f"https://{domain}/nothing.xml", "GET", {}).status == 404
