"""Callers' journeys through prompts in the line's language and recorded audio (issue 17).

A French line's goodbye and hold prompts are French; a recorded greeting or message is
fetched and played (``<Play>``), not said. The program is applied through the engine model
against the contract-checked double, then calls are placed on its virtual clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.lines.load import load_bytes
from infra.lines.prompts import TRANSLATIONS
from infra.model import LinesConfig, Severity
from tests.test_journeys import CALLER, Applied, applied_double, checked, steps
from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import Answer, PrimaryOutcome
from tests.twilio_double.people import Caller

GREETING_MP3 = "https://media.acme.example/studio-greeting.mp3"
CLOSED_WAV = "https://media.acme.example/closed.wav"
FRENCH = TRANSLATIONS["fr"]
PARIS_GREETING = "Tous nos agents sont occupés. Laissez un message après le bip."

LINES = f"""\
version: 1
account: {{name: acme}}
agents:
  - {{id: alice, name: Alice Ng, phone: "+14155550111"}}
lines:
  - id: paris
    type: contact_center
    number: "+33142685300"
    failover:
      voicemail: {{greeting: "{PARIS_GREETING}", voice: Polly.Celine, language: fr-FR}}
    queue: {{agents: [alice], timeout: 120}}
  - id: lyon
    type: department
    number: "+33142685302"
    failover:
      voicemail: {{voice: Polly.Celine, language: fr-FR}}
    prompts: {{goodbye: "Merci, à bientôt."}}
  - id: presse
    type: department
    number: "+33142685301"
    failover:
      message: {{text: "Notre standard est indisponible.", voice: Polly.Lea, language: fr-FR}}
  - id: studio
    type: department
    number: "+14155550109"
    failover:
      voicemail: {{greeting: {{audio: "{GREETING_MP3}"}}}}
  - id: closed
    type: department
    number: "+14155550110"
    failover:
      message: {{audio: "{CLOSED_WAV}"}}
"""


def config() -> LinesConfig:
    loaded, _ = load_bytes(LINES.encode(), "lines.yaml")
    return loaded


NUMBERS = {line.id: line.number for line in config().lines}


def _media(d: TwilioDouble) -> None:
    """The recordings' host: an https server answering with audio content types."""
    d.voice.internet.script(GREETING_MP3, Answer(200, "ID3", "audio/mpeg"))
    d.voice.internet.script(CLOSED_WAV, Answer(200, "RIFF", "audio/wav"))


@pytest.fixture(scope="module")
def minor(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.MINOR, config())


@pytest.fixture
def d(minor: Applied) -> Iterator[TwilioDouble]:
    for double in checked(minor):
        _media(double)
        yield double


def call(d: TwilioDouble, line: str, **script: Any) -> Any:
    return d.place_call(NUMBERS[line], CALLER, primary=PrimaryOutcome.http_500, **script)


def test_a_french_line_hears_a_french_goodbye(d: TwilioDouble) -> None:
    journey = call(d, "paris", caller=Caller(message_seconds=20))
    assert steps(journey) == [
        ("say", PARIS_GREETING),
        ("beep", ""),
        ("record", "20 s message"),
        ("say", FRENCH["goodbye"]),
        ("hangup", ""),
    ]


def test_a_lines_own_goodbye_overrides_the_translation(d: TwilioDouble) -> None:
    journey = call(d, "lyon", caller=Caller(message_seconds=5))
    assert journey.said()[-1] == "Merci, à bientôt."


def test_a_message_is_said_in_its_own_voice(d: TwilioDouble) -> None:
    journey = call(d, "presse")
    assert steps(journey) == [("say", "Notre standard est indisponible."), ("hangup", "")]
    (document,) = [r for r in journey.requests if "/m/" in r["url"]]
    assert document["served_by"] == "serverless"


def test_an_audio_greeting_is_played_before_the_tone(d: TwilioDouble) -> None:
    journey = call(d, "studio", caller=Caller(message_seconds=10))
    assert steps(journey)[:3] == [("play", GREETING_MP3), ("beep", ""), ("record", "10 s message")]
    fetched = [r for r in journey.requests if r["url"] == GREETING_MP3]
    assert fetched == [
        {
            "method": "GET",
            "url": GREETING_MP3,
            "params": {},
            "status": 200,
            "error_code": None,
            "served_by": "internet",
            "signed": False,
        }
    ]


def test_an_audio_message_is_played_then_the_call_ends(d: TwilioDouble) -> None:
    journey = call(d, "closed")
    assert steps(journey) == [("play", CLOSED_WAV), ("hangup", "")]


def test_a_recording_that_is_not_audio_is_skipped_with_13420(d: TwilioDouble) -> None:
    d.voice.internet.script(CLOSED_WAV, Answer(200, "<html/>", "text/html"))
    journey = call(d, "closed")
    assert steps(journey) == [("hangup", "")]  # nothing played
    assert [s.text for s in journey.steps if s.kind == "error"][-1] == f"13420 {CLOSED_WAV}"


@pytest.fixture(scope="module")
def severe(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.SEVERE, config())


def test_a_french_queue_holds_in_french_then_takes_a_french_voicemail(severe: Applied) -> None:
    """Alice is On Duty but does not answer: the caller holds (French prompts from the
    /queue-wait Function, run under node) until the queue timeout, then the voicemail."""
    for d in checked(severe):
        journey = call(
            d, "paris", caller=Caller(message_seconds=5), callees={"+14155550111": "no-answer"}
        )
        said = journey.said()
        assert said[0] == FRENCH["hold"]
        assert FRENCH["still_holding"] in said
        assert said[-2:] == [PARIS_GREETING, FRENCH["goodbye"]]
        assert not any("Please" in text or "Thank you" in text for text in said)
