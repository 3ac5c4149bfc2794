"""TwiML documents: documented verbs only, no Record loop, shared where content is shared,
every reference resolvable, each environment within Twilio's build limit."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from infra.model import Line, Voicemail
from infra.naming import DEFAULT_VOICEMAIL_PATH, QUEUE_ENV, SHARED_ENV, forward_env
from infra.render.artifacts import render_assets
from infra.render.bindings import Bindings
from infra.render.twiml import render_environments
from infra.routing import line_paths
from tests.harness.golden import (
    config,
    every_kind_config,
    forward_line,
    message_line,
    queue_line,
    url_line,
    user_forwarding_line,
    voicemail_line,
)

# Verbs, nouns and attributes Twilio documents for what these documents do (twilio.md §7;
# https://www.twilio.com/docs/voice/twiml/dial, /number, /enqueue, /gather); anything else in rendered
# TwiML is a bug or an undocumented guess.
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
    "Dial": {"timeout", "callerId", "answerOnBridge"},
    "Enqueue": {"workflowSid", "waitUrl", "waitUrlMethod"},
    "Leave": set(),
    "Hangup": set(),
    "Gather": {"numDigits", "timeout", "action", "method"},
}
NOUNS = {
    "Dial": {"Number": {"url", "method"}},
    "Enqueue": {"Task": {"timeout", "priority"}},
    "Gather": {"Say": {"voice", "language", "loop"}},
}
TEXT_VERBS = {"Say", "Play", "Redirect"}
SHARED = "acme-failover-dev-1234-shared.twil.io"
BINDINGS = Bindings(domain_name=SHARED, workflow_sid="WW" + "0" * 32)


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def check_document(
    path: str, xml: str, known_paths: set[str], shared_domain: str = SHARED
) -> list[str]:
    """Every problem with one rendered document (empty when fine). ``known_paths`` are the
    paths of the shared environment; absolute references must point there."""
    problems: list[str] = []
    root = parse(xml)
    if root.tag != "Response":
        return [f"{path}: root is <{root.tag}>, not <Response>"]
    verbs = list(root)
    if (
        "/s/" in path
    ):  # SMS replies: TwiML for Messaging (https://www.twilio.com/docs/messaging/twiml)
        return [
            f"{path}: <{verb.tag}> is not a plain <Message> with text"
            for verb in verbs
            if verb.tag != "Message" or verb.attrib or list(verb) or not (verb.text or "").strip()
        ] or ([] if verbs else [f"{path}: an SMS reply without <Message>"])
    for verb in verbs:
        if verb.tag not in ALLOWED or verb.tag == "Response":
            problems.append(f"{path}: <{verb.tag}> is not an allowed verb")
            continue
        unknown = set(verb.attrib) - ALLOWED[verb.tag]
        if unknown:
            problems.append(f"{path}: <{verb.tag}> has undocumented attributes {sorted(unknown)}")
        nouns = NOUNS.get(verb.tag, {})
        for child in verb:
            if child.tag not in nouns or set(child.attrib) - nouns[child.tag]:
                problems.append(f"{path}: <{verb.tag}> has undocumented <{child.tag}>")
        if verb.tag not in TEXT_VERBS and (verb.text or "").strip():
            problems.append(f"{path}: <{verb.tag}> has text")
        if verb.tag == "Record":
            action = verb.get("action")
            if not action:
                problems.append(f"{path}: <Record> without action loops the greeting")
            elif action not in known_paths or verb.get("method") != "GET":
                problems.append(f"{path}: <Record action={action!r}> is not a GET to a document")
        if verb.tag == "Gather" and (
            verb.get("action") not in known_paths or verb.get("method") != "GET"
        ):
            problems.append(f"{path}: <Gather action> is not a GET to a document")
        for number in verb.iter("Number"):
            whisper = number.get("url")
            if whisper is not None and (
                whisper.removeprefix(f"https://{shared_domain}") not in known_paths
                or number.get("method") != "GET"
            ):
                problems.append(f"{path}: <Number url={whisper!r}> is not a GET to a document")
        if verb.tag == "Redirect":
            target = (verb.text or "").removeprefix(f"https://{shared_domain}")
            if target not in known_paths or verb.get("method") != "GET":
                problems.append(f"{path}: <Redirect> to {verb.text!r} is not a GET to a document")
    if any(verb.tag == "Leave" for verb in verbs[:-1]):
        problems.append(f"{path}: <Leave/> is not the last verb")
    return problems


def test_every_document_uses_only_documented_verbs_and_resolves() -> None:
    envs = render_assets(every_kind_config(), BINDINGS)
    shared = set(envs[SHARED_ENV])
    problems = [
        p
        for docs in envs.values()
        for path, xml in docs.items()
        for p in check_document(path, xml, shared)
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("line", "envs"),
    [
        (forward_line(), {SHARED_ENV: {"v", "b"}, forward_env("sales"): {"f"}}),
        (voicemail_line(), {SHARED_ENV: {"v", "b"}}),
        (url_line(), {SHARED_ENV: set()}),
        (message_line(), {SHARED_ENV: {"m"}}),
        (queue_line(), {SHARED_ENV: {"v", "b"}, QUEUE_ENV: {"q"}}),
    ],
    ids=["forward", "voicemail", "url", "message", "queue"],
)
def test_each_kind_of_line_gets_exactly_its_documents(
    line: Line, envs: dict[str, set[str]]
) -> None:
    rendered = render_environments(config(line))
    assert {env: {p.split("/")[1] for p in docs} for env, docs in rendered.items()} == envs


def test_lines_with_the_same_voicemail_share_one_document() -> None:
    a = voicemail_line()
    b = dataclasses.replace(a, id="other", number="+14155550199")
    rendered = render_environments(config(a, b))[SHARED_ENV]
    assert len([p for p in rendered if p.startswith("/v/")]) == 1


def test_the_default_voicemail_has_a_stable_path_and_overrides_are_content_addressed() -> None:
    line = voicemail_line()
    cfg = dataclasses.replace(config(line), default_voicemail=line.voicemail)
    assert line_paths(line, cfg).voicemail == DEFAULT_VOICEMAIL_PATH
    reworded = dataclasses.replace(cfg, default_voicemail=Voicemail(greeting="Other."))
    path = line_paths(line, reworded).voicemail
    assert path.startswith("/v/") and path != DEFAULT_VOICEMAIL_PATH
    again = dataclasses.replace(line, voicemail=dataclasses.replace(line.voicemail, greeting="X"))
    assert line_paths(again, reworded).voicemail != path  # other words, other document


def test_a_new_default_greeting_changes_one_document_only() -> None:
    cfg = every_kind_config()
    before = render_assets(cfg, BINDINGS)
    default = dataclasses.replace(cfg.default_voicemail, greeting="We are away.")
    lines = tuple(
        dataclasses.replace(line, voicemail=default)
        if line.voicemail == cfg.default_voicemail
        else line
        for line in cfg.lines
    )
    after = render_assets(
        dataclasses.replace(cfg, default_voicemail=default, lines=lines), BINDINGS
    )
    changed = {
        (env, path)
        for env in before.keys() | after.keys()
        for path in before.get(env, {}).keys() | after.get(env, {}).keys()
        if before.get(env, {}).get(path) != after.get(env, {}).get(path)
    }
    assert changed == {(SHARED_ENV, DEFAULT_VOICEMAIL_PATH)}


def test_voicemail_greets_then_records_into_the_goodbye_document() -> None:
    line = user_forwarding_line()
    paths = line_paths(line, None)
    verbs = list(parse(render_environments(config(line))[SHARED_ENV][paths.voicemail]))
    assert [verb.tag for verb in verbs] == ["Say", "Record", "Hangup"]
    say, record, _ = verbs
    assert say.text == line.voicemail.greeting
    assert (say.get("voice"), say.get("language")) == ("Polly.Brian", "en-GB")
    assert record.attrib == {
        "action": paths.goodbye,
        "method": "GET",
        "maxLength": "120",
        "recordingStatusCallback": "https://hooks.acme.example/recordings",
    }


def test_voicemail_without_recording_callback_sets_none() -> None:
    line = dataclasses.replace(voicemail_line(), voicemail=Voicemail(max_length_s=30))
    paths = line_paths(line, None)
    record = parse(render_environments(config(line))[SHARED_ENV][paths.voicemail]).find("Record")
    assert record is not None
    assert "recordingStatusCallback" not in record.attrib
    assert record.get("maxLength") == "30"


def test_forward_dials_without_action_then_redirects_to_the_lines_voicemail() -> None:
    line = forward_line()
    docs = render_environments(config(line), BINDINGS)[forward_env(line.id)]
    dial, redirect = parse(docs[f"/f/{line.id}.xml"])
    assert dial.tag == "Dial" and "action" not in dial.attrib  # falls through when it ends
    assert dial.get("timeout") == str(line.forward_timeout_s)
    assert [n.text for n in dial] == [line.forward]
    assert redirect.text == f"https://{SHARED}{line_paths(line, None).voicemail}"


def test_queue_entry_enqueues_with_the_line_then_falls_through_to_voicemail() -> None:
    line = queue_line()
    docs = render_environments(config(line), BINDINGS)[QUEUE_ENV]
    enqueue, redirect = parse(docs[f"/q/{line.id}.xml"])
    assert enqueue.get("workflowSid") == BINDINGS.workflow_sid
    assert enqueue.get("waitUrl") == f"https://{SHARED}/queue-wait?line={line.id}"
    (task,) = enqueue
    assert '"line": "' + line.id + '"' in (task.text or "")
    assert redirect.get("method") == "GET"


def test_goodbye_thanks_and_hangs_up_without_recording_again() -> None:
    line = forward_line()
    docs = render_environments(config(line))[SHARED_ENV]
    verbs = [verb.tag for verb in parse(docs[line_paths(line, None).goodbye])]
    assert verbs == ["Say", "Hangup"]


def test_message_is_said_verbatim_then_the_call_ends() -> None:
    line = message_line()
    xml = render_environments(config(line))[SHARED_ENV][line_paths(line, None).message]
    say, hangup = parse(xml)
    assert say.text == line.message  # "<today>" survives: escaped by the library
    assert "&lt;today&gt;" in xml
    assert hangup.tag == "Hangup"


def test_documents_are_identical_when_rendered_twice() -> None:
    assert render_assets(every_kind_config()) == render_assets(every_kind_config())


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


def test_an_environment_past_twilios_build_limit_is_refused_before_deploying() -> None:
    from infra.naming import ENVIRONMENT_DOCUMENT_CAP, FORWARD_SHARDS
    from infra.routing import capacity_problems, documents_per_environment

    base = forward_line()
    many = FORWARD_SHARDS * ENVIRONMENT_DOCUMENT_CAP + 2_000
    lines = tuple(
        dataclasses.replace(base, id=f"u{i}", number=f"+1415{i:07d}") for i in range(many)
    )
    counts = documents_per_environment(config(*lines))
    assert sum(v for k, v in counts.items() if k.startswith("fwd-")) == many
    problems = capacity_problems(config(*lines))
    assert problems and all("Split the organisation" in p for p in problems)
    assert capacity_problems(config(*lines[:10_000])) == []  # 10,000 lines fit with headroom


def test_the_fast_forward_template_gives_the_librarys_bytes() -> None:
    from infra.render.twiml import render_forward

    tricky = dataclasses.replace(
        forward_line(),
        id="tricky",
        number="+14155550177",
        voicemail=Voicemail(greeting='Say "&" <now>', language="fr-FR"),
    )
    confirming = dataclasses.replace(tricky, id="confirming", forward_confirm=True)
    cfg = config(forward_line(), tricky, confirming)
    odd = Bindings(domain_name="a&b<c>.twil.io", workflow_sid="WW1")
    for line in cfg.lines:
        env = forward_env(line.id)
        rendered = render_environments(cfg, odd)[env][f"/f/{line.id}.xml"]
        assert rendered == render_forward(line, line_paths(line, cfg), odd)
        assert render_environments(cfg, odd, only=env)[env][f"/f/{line.id}.xml"] == rendered


def test_a_confirmed_forward_whispers_from_the_shared_domain_and_falls_to_voicemail() -> None:
    line = dataclasses.replace(forward_line(), forward_confirm=True)
    cfg = config(line)
    envs = render_environments(cfg, BINDINGS)
    paths = line_paths(line, cfg)
    forward = parse(envs[forward_env(line.id)][f"/f/{line.id}.xml"])
    dial, redirect = list(forward)
    (number,) = list(dial)
    assert number.get("url") == f"https://{SHARED}{paths.confirm}"
    assert (number.get("method"), redirect.tag) == ("GET", "Redirect")
    whisper = parse(envs[SHARED_ENV][paths.confirm])
    gather, hangup = list(whisper)
    assert (gather.tag, gather.get("numDigits"), gather.get("action")) == (
        "Gather", "1", "/c/accept.xml",
    )  # fmt: skip
    assert hangup.tag == "Hangup"  # no key: the whisper declines, the caller goes on
    assert list(parse(envs[SHARED_ENV]["/c/accept.xml"])) == []  # a key: connected
    assert check_document("/c", envs[SHARED_ENV][paths.confirm], set(envs[SHARED_ENV])) == []
    plain = render_environments(config(forward_line()), BINDINGS)
    assert not any(path.startswith("/c/") for path in plain[SHARED_ENV])


def test_binding_placeholders_later_gives_the_bytes_of_rendering_with_the_values() -> None:
    from infra.render.bindings import bind

    cfg = every_kind_config()
    placeholders = render_environments(cfg)
    bound = render_environments(cfg, BINDINGS)
    assert {
        env: {p: bind(t, BINDINGS) for p, t in docs.items()} for env, docs in placeholders.items()
    } == bound
