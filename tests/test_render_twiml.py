"""TwiML documents: documented verbs only, no Record loop, bounded queue hold, stable paths."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from infra.model import Line, Voicemail
from infra.naming import goodbye_path, message_path, voicemail_path
from infra.render.artifacts import render_assets
from infra.render.twiml import render_documents
from tests.harness.golden import (
    every_kind_config,
    forward_line,
    message_line,
    queue_line,
    url_line,
    user_forwarding_line,
    voicemail_line,
)

# Verbs and attributes Twilio documents for what these documents do (twilio.md §7); anything
# else in rendered TwiML is a bug or an undocumented guess.
ALLOWED: dict[str, set[str]] = {
    "Response": set(),
    "Say": {"voice", "language", "loop"},
    "Play": {"loop", "digits"},
    "Pause": {"length"},
    "Record": {
        "action",
        "method",
        "timeout",
        "finishOnKey",
        "maxLength",
        "playBeep",
        "trim",
        "recordingStatusCallback",
        "recordingStatusCallbackMethod",
        "recordingStatusCallbackEvent",
        "transcribe",
        "transcribeCallback",
    },
    "Redirect": {"method"},
    "Leave": set(),
    "Hangup": set(),
}
TEXT_VERBS = {"Say", "Play", "Redirect"}


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def check_document(path: str, xml: str, known_paths: set[str]) -> list[str]:
    """Every problem with one rendered document (empty when fine)."""
    problems: list[str] = []
    root = parse(xml)
    if root.tag != "Response":
        return [f"{path}: root is <{root.tag}>, not <Response>"]
    verbs = list(root)
    for verb in verbs:
        if verb.tag not in ALLOWED or verb.tag == "Response":
            problems.append(f"{path}: <{verb.tag}> is not an allowed verb")
            continue
        unknown = set(verb.attrib) - ALLOWED[verb.tag]
        if unknown:
            problems.append(f"{path}: <{verb.tag}> has undocumented attributes {sorted(unknown)}")
        if len(verb):
            problems.append(f"{path}: <{verb.tag}> has nested elements")
        if verb.tag not in TEXT_VERBS and (verb.text or "").strip():
            problems.append(f"{path}: <{verb.tag}> has text")
        if verb.tag == "Record":
            action = verb.get("action")
            if not action:
                problems.append(f"{path}: <Record> without action loops the greeting")
            elif action not in known_paths or verb.get("method") != "GET":
                problems.append(f"{path}: <Record action={action!r}> is not a GET to a document")
    if any(verb.tag == "Leave" for verb in verbs[:-1]):
        problems.append(f"{path}: <Leave/> is not the last verb")
    return problems


def test_every_document_uses_only_documented_verbs_and_attributes() -> None:
    assets = render_assets(every_kind_config(alerts="https://hooks.acme.example/failover"))
    assert assets, "the every-kind config renders documents"
    problems = [p for path, xml in assets.items() for p in check_document(path, xml, set(assets))]
    assert problems == []


@pytest.mark.parametrize(
    ("line", "paths"),
    [
        (forward_line(), {"voicemail.xml", "goodbye.xml"}),
        (voicemail_line(), {"voicemail.xml", "goodbye.xml"}),
        (url_line(), set()),
        (message_line(), {"message.xml"}),
        (queue_line(), {"voicemail.xml", "goodbye.xml"}),  # hold: the /queue-wait Function
    ],
    ids=["forward", "voicemail", "url", "message", "queue"],
)
def test_each_kind_of_line_gets_exactly_its_documents(line: Line, paths: set[str]) -> None:
    assert set(render_documents(line)) == {f"/lines/{line.id}/{name}" for name in paths}


def test_paths_derive_from_the_line_id() -> None:
    assert voicemail_path("sales") == "/lines/sales/voicemail.xml"
    assert goodbye_path("sales") == "/lines/sales/goodbye.xml"
    assert message_path("press") == "/lines/press/message.xml"


def test_voicemail_greets_then_records_into_the_goodbye_document() -> None:
    line = user_forwarding_line()
    verbs = list(parse(render_documents(line)[voicemail_path(line.id)]))
    assert [verb.tag for verb in verbs] == ["Say", "Record", "Hangup"]
    say, record, _ = verbs
    assert say.text == line.voicemail.greeting
    assert (say.get("voice"), say.get("language")) == ("Polly.Brian", "en-GB")
    assert record.attrib == {
        "action": goodbye_path(line.id),
        "method": "GET",
        "maxLength": "120",
        "recordingStatusCallback": "https://hooks.acme.example/recordings",
    }


def test_voicemail_without_recording_callback_sets_none() -> None:
    line = dataclasses.replace(voicemail_line(), voicemail=Voicemail(max_length_s=30))
    record = parse(render_documents(line)[voicemail_path(line.id)]).find("Record")
    assert record is not None
    assert "recordingStatusCallback" not in record.attrib
    assert record.get("maxLength") == "30"


def test_goodbye_thanks_and_hangs_up_without_recording_again() -> None:
    line = forward_line()
    verbs = [verb.tag for verb in parse(render_documents(line)[goodbye_path(line.id)])]
    assert verbs == ["Say", "Hangup"]


def test_message_is_said_verbatim_then_the_call_ends() -> None:
    line = message_line()
    xml = render_documents(line)[message_path(line.id)]
    say, hangup = parse(xml)
    assert say.text == line.message  # "<today>" survives: escaped by the library
    assert "&lt;today&gt;" in xml
    assert hangup.tag == "Hangup"


def test_documents_are_identical_when_rendered_twice() -> None:
    config = every_kind_config()
    assert render_assets(config) == render_assets(every_kind_config())


def test_the_checker_rejects_a_looping_record_and_undocumented_attributes() -> None:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say("hi", colour="blue")
    response.record(max_length=10)
    response.leave()
    response.hangup()
    problems = check_document("/bad.xml", response.to_xml(), set())
    assert problems == [
        "/bad.xml: <Say> has undocumented attributes ['colour']",
        "/bad.xml: <Record> without action loops the greeting",
        "/bad.xml: <Leave/> is not the last verb",
    ]
