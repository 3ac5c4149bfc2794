"""Prompts in the line's language and recorded audio (issue 17 items 2 and 4): what loading
makes of them, the documents they render to, and how plan and diff word them."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from infra.compare import compare
from infra.describe import describe_chain, line_summary
from infra.lines.load import load_bytes
from infra.lines.prompts import TRANSLATIONS, resolve
from infra.model import DEFAULT_GOODBYE, LinesConfig, Severity
from infra.naming import DEFAULT_VOICEMAIL_PATH
from infra.render.functions import render_agent_whisper_function, render_queue_wait_function
from infra.render.twiml import render_environments
from infra.routing import line_paths

HEAD = """\
version: 1
account: {name: acme}
agents:
  - {id: alice, name: Alice Ng, phone: "+14155550111"}
"""


def load(body: str, defaults: str = "") -> LinesConfig:
    return load_bytes((HEAD + defaults + "lines:\n" + body).encode(), "lines.yaml")[0]


FRENCH_LINE = """\
  - id: paris
    type: department
    number: "+33142685300"
    failover:
      voicemail: {voice: Polly.Chantal, language: fr-CA}
"""


def test_prompts_follow_the_voicemail_language_by_primary_subtag() -> None:
    (line,) = load(FRENCH_LINE).lines
    assert line.prompts == resolve("fr-FR")
    assert line.prompts.goodbye == TRANSLATIONS["fr"]["goodbye"]


def test_defaults_then_line_prompts_override_key_by_key() -> None:
    config = load(
        FRENCH_LINE + "    prompts: {hold: Un instant.}\n",
        defaults='defaults:\n  prompts: {goodbye: "Au revoir !", hold: "Patientez."}\n',
    )
    (line,) = config.lines
    assert (line.prompts.goodbye, line.prompts.hold) == ("Au revoir !", "Un instant.")
    assert line.prompts.nobody == TRANSLATIONS["fr"]["nobody"]


def test_an_untranslated_language_keeps_english_and_warns_where_it_is_set() -> None:
    text = (
        HEAD
        + "lines:\n"
        + FRENCH_LINE.replace("Polly.Chantal, language: fr-CA", "Polly.Mizuki, language: ja-JP")
    )
    config, warnings = load_bytes(text.encode(), "lines.yaml")
    assert config.lines[0].prompts.goodbye == DEFAULT_GOODBYE
    (warning,) = [w for w in warnings if "prompts" in w.message]
    assert str(warning).startswith("lines.yaml:10:50: warning:")
    assert "no ja-JP texts for its own prompts" in warning.message


def test_the_goodbye_document_is_in_the_lines_language_and_voice() -> None:
    config = load(FRENCH_LINE)
    paths = line_paths(config.lines[0], config)
    shared = render_environments(config)["shared"]
    assert (
        'language="fr-CA" voice="Polly.Chantal">Merci pour votre message. Au revoir.</Say>'
        in shared[paths.goodbye]
    )
    assert f'action="{paths.goodbye}"' in shared[paths.voicemail]


def test_english_lines_keep_their_document_paths() -> None:
    """Paths of files that use none of the new keys are unchanged: an upgrade moves nothing."""
    config = load(
        FRENCH_LINE.replace("Polly.Chantal, language: fr-CA", "Polly.Brian, language: en-GB")
    )
    paths = line_paths(config.lines[0], config)
    assert paths.goodbye == "/b/" + _legacy_hash("b", "Polly.Brian", "en-GB") + ".xml"


def _legacy_hash(*parts: object) -> str:
    from infra.naming import shared_path

    return shared_path(*parts).removeprefix(f"/{parts[0]}/").removesuffix(".xml")


def test_two_lines_sharing_a_voicemail_but_not_a_goodbye_get_two_documents() -> None:
    config = load(
        FRENCH_LINE
        + FRENCH_LINE.replace("paris", "lyon").replace("+33142685300", "+33142685301")
        + '    prompts: {goodbye: "Merci, à bientôt."}\n'
    )
    paris, lyon = (line_paths(line, config) for line in config.lines)
    assert paris.voicemail != lyon.voicemail and paris.goodbye != lyon.goodbye
    shared = render_environments(config)["shared"]
    assert f'action="{lyon.goodbye}"' in shared[lyon.voicemail]


def test_a_line_with_its_own_goodbye_leaves_the_default_voicemail_document() -> None:
    plain = """\
  - id: main
    type: main_line
    number: "+14155550100"
"""
    config = load(plain + "    prompts: {goodbye: Thanks and bye.}\n")
    assert line_paths(config.lines[0], config).voicemail != DEFAULT_VOICEMAIL_PATH
    assert line_paths(load(plain).lines[0], load(plain)).voicemail == DEFAULT_VOICEMAIL_PATH


def test_queue_hold_prompts_travel_per_line_in_the_function() -> None:
    config = load(FRENCH_LINE + "    queue: {agents: [alice]}\n")
    source = render_queue_wait_function(config)
    assert (
        '"hold": "Veuillez patienter, le prochain agent disponible va vous r\\u00e9pondre."'
        in source
    )


MESSAGE = """\
  - id: presse
    type: department
    number: "+33142685301"
    failover:
      message: {text: "Notre standard est indisponible.", voice: Polly.Lea, language: fr-FR}
"""


def test_a_message_speaks_with_its_own_voice() -> None:
    config = load(MESSAGE)
    (line,) = config.lines
    assert line.message_speech == ("Polly.Lea", "fr-FR")
    document = render_environments(config)["shared"][line_paths(line, config).message]
    assert (
        '<Say language="fr-FR" voice="Polly.Lea">Notre standard est indisponible.</Say>' in document
    )


def test_a_plain_string_message_keeps_its_path_when_written_as_a_mapping_without_voice() -> None:
    plain = load(
        MESSAGE.replace(
            '{text: "Notre standard est indisponible.", voice: Polly.Lea, language: fr-FR}',
            '"Closed."',
        )
    )
    mapped = load(
        MESSAGE.replace(
            '{text: "Notre standard est indisponible.", voice: Polly.Lea, language: fr-FR}',
            '{text: "Closed."}',
        )
    )
    assert line_paths(plain.lines[0], plain) == line_paths(mapped.lines[0], mapped)


AUDIO = """\
  - id: studio
    type: department
    number: "+14155550109"
    failover:
      voicemail: {greeting: {audio: "https://media.acme.example/studio.mp3"}}
  - id: closed
    type: department
    number: "+14155550110"
    failover:
      message: {audio: "https://media.acme.example/closed.wav"}
"""


def test_recordings_are_played_and_named_in_the_plan() -> None:
    config = load(AUDIO)
    studio, closed = config.lines
    shared = render_environments(config)["shared"]
    assert (
        "<Play>https://media.acme.example/studio.mp3</Play><Record"
        in shared[line_paths(studio, config).voicemail]
    )
    assert shared[line_paths(closed, config).message].endswith(
        "<Response><Play>https://media.acme.example/closed.wav</Play><Hangup /></Response>\n"
    )
    assert (
        describe_chain(studio)
        == "voicemail (recorded greeting https://media.acme.example/studio.mp3)"
    )
    assert (
        describe_chain(closed)
        == "play the recording https://media.acme.example/closed.wav and hang up"
    )
    record = line_summary(closed, config, Severity.MINOR)
    assert record["failover"][0]["audio"] == "https://media.acme.example/closed.wav"


def _details(old: LinesConfig, new: LinesConfig) -> list[str]:
    return [detail for change in compare(old, new) for detail in change.details]


def test_diff_words_recordings_voices_and_prompts() -> None:
    old = load(AUDIO + MESSAGE + FRENCH_LINE)
    new = load(
        AUDIO.replace("studio.mp3", "studio-2.mp3").replace(
            '{audio: "https://media.acme.example/closed.wav"}', '"We are closed."'
        )
        + MESSAGE.replace("Polly.Lea", "Polly.Mathieu")
        + FRENCH_LINE
        + '    prompts: {goodbye: "Merci, à bientôt."}\n'
    )
    assert _details(old, new) == [
        "greeting recording https://media.acme.example/studio.mp3 → https://media.acme.example/studio-2.mp3",
        "message recording https://media.acme.example/closed.wav → (none: said)",
        "message voice Polly.Lea (fr-FR) → Polly.Mathieu (fr-FR)",
        'goodbye prompt changed: "Merci pour votre message. Au revoir." → "Merci, à bientôt."',
    ]
    assert all(not change.failover_changed for change in compare(old, new))


# -- the engine-model scenario: a defaults.prompts edit is one build; only paris's number moves --
def test_a_new_default_goodbye_is_one_build_and_moves_only_lines_whose_words_moved(
    twilio_double: Any,
) -> None:
    from collections import Counter

    from infra.program import StackSettings
    from tests.harness.program_engine import ProgramEngine

    plain = """\
  - id: main
    type: main_line
    number: "+14155550100"
  - id: paris
    type: department
    number: "+33142685300"
    failover:
      voicemail: {voice: Polly.Celine, language: fr-FR}
"""
    before = load(plain)
    for line in before.lines:
        twilio_double.seed_number(line.number, voice_url="https://legacy.acme.example/" + line.id)
    engine = ProgramEngine.for_double(twilio_double)
    run = engine.up(before, StackSettings(stack="dev"), {})
    numbers = {
        n["phone_number"]: n["voice_fallback_url"] for n in twilio_double.state.numbers.values()
    }
    writes = Counter(twilio_double.writes())
    after = load(plain, defaults='defaults:\n  prompts: {goodbye: "Thanks, goodbye."}\n')
    run = engine.up(after, StackSettings(stack="dev"), run.state)
    assert run.changed == [("update", "documents-shared"), ("update", "numbers-04")]
    assert dict(Counter(twilio_double.writes()) - writes) == {
        "Asset.create": 3,  # two new goodbyes (one per voice) and paris's voicemail
        "AssetVersion.create": 4,  # those, and /v/default.xml whose <Record action> moves
        "Build.create": 1,
        "Deployment.create": 1,
        "IncomingPhoneNumber.update": 1,  # paris only
    }
    now = {n["phone_number"]: n["voice_fallback_url"] for n in twilio_double.state.numbers.values()}
    assert now["+14155550100"] == numbers["+14155550100"]  # main stays on /v/default.xml
    assert now["+33142685300"] != numbers["+33142685300"]  # paris: its words changed
    assert after.lines[1].prompts.goodbye == "Thanks, goodbye."  # defaults win over the table


def test_the_callers_place_in_line_is_said_in_the_lines_language() -> None:
    config = load(FRENCH_LINE + "    queue: {agents: [alice]}\n")
    source = render_queue_wait_function(config)
    assert '"position": "Vous \\u00eates le num\\u00e9ro {n} dans la file d\'attente."' in source
    english = render_queue_wait_function(
        load(FRENCH_LINE.replace("fr-CA", "en-US") + "    queue: {agents: [alice]}\n")
    )
    assert '"position": "You are number {n} in line."' in english


def test_a_confirmed_forward_asks_in_the_lines_language_and_an_override_wins() -> None:
    forward = """\
  - id: lyon
    type: department
    number: "+33142685302"
    failover:
      forward: "+33142685399"
      confirm: true
      voicemail: {voice: Polly.Lea, language: fr-FR}
"""
    config = load(forward)
    paths = line_paths(config.lines[0], config)
    shared = render_environments(config)["shared"]
    assert (
        'language="fr-FR" voice="Polly.Lea">Ceci est un appel transféré. Appuyez sur une '
        "touche pour le prendre.</Say>" in shared[paths.confirm]
    )
    own = load(forward + '    prompts: {confirm: "Appel du standard : appuyez sur 1."}\n')
    own_paths = line_paths(own.lines[0], own)
    assert own_paths.confirm != paths.confirm  # content-addressed: its own document
    own_shared = render_environments(own)["shared"]
    assert "Appel du standard : appuyez sur 1.</Say>" in own_shared[own_paths.confirm]


def _whisper(config: LinesConfig, caller: str) -> str:
    """The TwiML ``/agent-whisper`` answers an agent's phone with, run in node."""
    from tests.twilio_double.internet import Internet
    from tests.twilio_double.runtime import run_function

    source = render_agent_whisper_function(config)
    event = {"line": config.lines[0].id, "reservation": "WR" + "0" * 32, "caller": caller}
    result = run_function(source, {"DOMAIN_NAME": "svc-1234.twil.io"}, event, Internet())
    assert result["status"] == 200, result
    return str(result["body"])


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_queues_agent_hears_the_whisper_in_the_lines_language() -> None:
    named = FRENCH_LINE.replace("id: paris", "id: paris\n    name: Paris")
    config = load(named + "    queue: {agents: [alice]}\n")
    assert (
        '<Say voice="Polly.Chantal" language="fr-CA">Appel pour Paris de 3 3 6 1 2 3 4 5 6 7 8.'
        " Appuyez sur 1 pour répondre.</Say>"
    ) in _whisper(config, "+33612345678")
    assert "Appel pour Paris de un numéro masqué." in _whisper(config, "anonymous")
    own = load(
        FRENCH_LINE.replace("id: paris", "id: paris\n    name: Paris $& Co")
        + '    prompts: {agent_call: "{caller} pour {line} : tapez 1."}\n'
        + "    queue: {agents: [alice]}\n"
    )
    assert "3 3 1 4 2 6 8 5 3 9 9 pour Paris $&amp; Co : tapez 1." in _whisper(own, "+33142685399")
