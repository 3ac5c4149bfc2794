"""The double's call engine on hand-written TwiML: fallback, verbs, queues, the clock, HTTP.

These pin the engine's own behaviour (README "Calls" cites Twilio for each) independently
of the product; tests/test_journeys*.py run the product's deployed failovers through it.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from tests.twilio_double import TwilioDouble
from tests.twilio_double.callflow import Signal, Simulation, Sleep, Wait
from tests.twilio_double.internet import Answer, PrimaryOutcome
from tests.twilio_double.people import Callee, Caller
from tests.twilio_double.voice import APPLICATION_ERROR, CallSpec

LINE, CALLER = "+14155550100", "+16285550199"
PRIMARY, BACKUP = "https://app.example.com/voice", "https://backup.example.com/voice.xml"


def twiml(body: str) -> Answer:
    return Answer.twiml(f"<Response>{body}</Response>")


@pytest.fixture
def d(twilio_double: TwilioDouble) -> TwilioDouble:
    twilio_double.seed_number(
        LINE, voice_url=PRIMARY, voice_fallback_url=BACKUP, voice_fallback_method="GET"
    )
    return twilio_double


def valid(d: TwilioDouble, request: dict[str, Any], signature: str | None = None) -> bool:
    validator = RequestValidator(d.auth_token)
    expected = validator.compute_signature(request["url"], request["params"])
    return request["signed"] and (signature is None or signature == expected)


# -- the clock ------------------------------------------------------------------------------
def test_virtual_clock_orders_sleeps_and_waits_without_sleeping() -> None:
    sim, seen, signal = Simulation(), [], Signal("bell")

    def sleeper() -> Any:
        yield Sleep(300)
        seen.append(("slept", sim.now))
        sim.fire(signal, "ring")

    def waiter(timeout: float) -> Any:
        value = yield Wait(signal, timeout)
        seen.append((value, sim.now))

    sim.spawn(sleeper())
    sim.spawn(waiter(1000))
    sim.spawn(waiter(10))
    sim.run()
    assert seen == [(None, 10), ("slept", 300), ("ring", 300)]


# -- number -> primary -> fallback ------------------------------------------------------------
def test_fallback_gets_error_code_url_method_and_a_valid_signature(d: TwilioDouble) -> None:
    d.voice.internet.script(BACKUP, twiml("<Say>Backup here.</Say>"))
    journey = d.place_call(LINE, CALLER, primary=PrimaryOutcome.http_500)
    first, fallback = journey.requests
    assert (first["method"], first["url"], first["status"]) == ("POST", PRIMARY, 500)
    assert fallback["method"] == "GET"  # voice_fallback_method
    assert "ErrorCode=11200" in fallback["url"] and "ErrorUrl=https%3A%2F%2Fapp" in fallback["url"]
    assert valid(d, fallback) and valid(d, first)
    assert journey.said() == ["Backup here."] and journey.outcome == "message"


def test_without_a_fallback_the_caller_hears_twilios_application_error(d: TwilioDouble) -> None:
    d.edit_number(LINE, voice_fallback_url="")
    journey = d.place_call(LINE, CALLER, primary=PrimaryOutcome.refused)
    assert journey.said() == [APPLICATION_ERROR]
    assert journey.outcome == "application-error"


def test_a_failing_fallback_also_ends_in_the_application_error(d: TwilioDouble) -> None:
    d.voice.internet.script(BACKUP, Answer(404, "nope", "text/plain"))
    journey = d.place_call(LINE, CALLER, primary=PrimaryOutcome.invalid_twiml)
    assert [s.text for s in journey.find("error")] == [f"12100 {PRIMARY}", f"11200 {BACKUP}"]
    assert journey.outcome == "application-error"


# -- verbs ------------------------------------------------------------------------------------
def test_dial_action_whisper_and_relative_urls(d: TwilioDouble) -> None:
    d.voice.internet.script(
        BACKUP,
        twiml('<Dial timeout="12" action="/after"><Number url="whisper.xml">+15550001</Number>'
              '<Number>+15550002</Number></Dial><Say>unreachable</Say>'),
    )  # fmt: skip
    d.voice.internet.script("https://backup.example.com/after", twiml("<Say>After.</Say><Hangup/>"))
    journey = d.place_call(
        LINE, CALLER, primary="http_500", callees={"+15550001": "busy", "+15550002": "no-answer"}
    )
    assert [s.text for s in journey.find("dial")] == [
        "+15550001, +15550002 (timeout 12 s)", "no-answer after 12 s",
    ]  # fmt: skip
    after = journey.requests[-1]
    assert after["url"] == "https://backup.example.com/after"
    assert after["params"]["DialCallStatus"] == "no-answer"
    assert journey.said() == ["After."]


def test_dial_whisper_is_requested_for_the_answering_callee(d: TwilioDouble) -> None:
    d.voice.internet.script(
        BACKUP, twiml('<Dial><Number url="/whisper.xml">+15550001</Number></Dial>')
    )
    d.voice.internet.script("https://backup.example.com/whisper.xml", twiml("<Say>Press 1</Say>"))
    journey = d.place_call(LINE, CALLER, primary="http_500", callees={"+15550001": "answer"})
    assert journey.find("whisper")[0].text == '+15550001 hears "Press 1"'
    (whisper,) = [r for r in journey.requests if r["url"].endswith("/whisper.xml")]
    assert (whisper["method"], whisper["signed"]) == ("POST", True)
    assert whisper["params"]["ParentCallSid"] == journey.call_sid
    assert journey.answered_by == "+15550001"  # the whisper ran out: connected


def test_a_whisper_that_hangs_up_declines_and_the_caller_goes_on(d: TwilioDouble) -> None:
    """https://www.twilio.com/docs/voice/twiml/number: the whisper may "decline the phone
    call using <Gather> and <Hangup>"; a voicemail presses nothing, the Gather times out."""
    d.voice.internet.script(
        BACKUP,
        twiml('<Dial><Number url="/w.xml">+15550001</Number></Dial><Say>Voicemail.</Say>'),
    )
    d.voice.internet.script(
        "https://backup.example.com/w.xml",
        twiml('<Gather numDigits="1" timeout="4" action="/ok.xml"><Say>Press 1</Say></Gather>'
              "<Hangup/>"),
    )  # fmt: skip
    d.voice.internet.script("https://backup.example.com/ok.xml", twiml(""))
    machine = d.place_call(LINE, CALLER, primary="http_500", callees={"+15550001": "voicemail"})
    assert machine.find("whisper")[0].text == (
        '+15550001 hears "Press 1", presses nothing, hangs up'
    )
    assert machine.said() == ["Voicemail."] and machine.answered_by is None
    person = d.place_call(LINE, CALLER, primary="http_500", callees={"+15550001": "answer"})
    assert person.find("whisper")[0].text == '+15550001 hears "Press 1", presses 1'
    (accepted,) = [r for r in person.requests if r["url"].endswith("/ok.xml")]
    assert accepted["params"]["Digits"] == "1"
    assert person.answered_by == "+15550001"


def test_record_stores_a_recording_and_posts_the_action(d: TwilioDouble) -> None:
    d.voice.internet.script(BACKUP, twiml('<Record maxLength="20" action="bye"/>'))
    d.voice.internet.script("https://backup.example.com/bye", twiml("<Hangup/>"))
    journey = d.place_call(LINE, CALLER, primary="http_500", caller=Caller(message_seconds=45))
    recording = d.state.recordings[journey.recording_sid]
    assert recording["duration"] == "20"  # maxLength cut it
    action = journey.requests[-1]
    assert (action["method"], action["params"]["RecordingSid"]) == ("POST", recording["sid"])
    assert d.state.calls[journey.call_sid]["status"] == "completed"


def test_record_without_action_re_requests_the_same_document(d: TwilioDouble) -> None:
    d.voice.internet.script(BACKUP, twiml("<Say>Leave a message.</Say><Record/>"))
    journey = d.place_call(LINE, CALLER, primary="http_500", caller=Caller(hangup_after=100))
    assert journey.said().count("Leave a message.") >= 3  # Twilio's documented loop
    assert len(d.state.recordings) >= 3


def test_redirect_reject_and_pause(d: TwilioDouble) -> None:
    d.voice.internet.script(
        BACKUP, twiml('<Pause length="3"/><Redirect method="GET">two.xml</Redirect>')
    )
    d.voice.internet.script("https://backup.example.com/two.xml", twiml("<Reject/>"))
    journey = d.place_call(LINE, CALLER, primary="http_500")
    assert [(s.kind, s.at) for s in journey.steps][-3:] == [
        ("pause", 0.0), ("redirect", 3.0), ("reject", 3.0),
    ]  # fmt: skip
    assert journey.requests[-1]["method"] == "GET"


def test_unscripted_urls_are_refused_and_nothing_leaves_the_machine(d: TwilioDouble) -> None:
    journey = d.place_call(LINE, CALLER)  # neither the primary nor the backup is scripted
    assert [r["error_code"] for r in journey.requests] == [11205, 11205]


def test_callee_scripts_are_used_call_by_call() -> None:
    from tests.twilio_double.people import CalleeBook

    book = CalleeBook()
    book.update({"+1555": ["answer:3", "voicemail"]})
    assert [book.next_for("+1555").kind for _ in range(3)] == ["answer", "voicemail", "voicemail"]
    assert book.next_for("+1999") == Callee("no-answer")


# -- TaskRouter from TwiML --------------------------------------------------------------------
def _workspace(d: TwilioDouble, callback: str, *, multitask: bool = True) -> tuple[str, str]:
    tr = d.client().taskrouter.v1
    ws = tr.workspaces.create(friendly_name="calls", multi_task_enabled=multitask)
    on = tr.workspaces(ws.sid).activities.create(friendly_name="On", available=True)
    off = tr.workspaces(ws.sid).activities.create(friendly_name="Off", available=False)
    tr.workspaces(ws.sid).update(timeout_activity_sid=off.sid)
    queue = tr.workspaces(ws.sid).task_queues.create(
        friendly_name="q", target_workers='team == "a"'
    )
    config = {"task_routing": {"filters": [
        {"expression": "kind == \"x\"", "targets": [{"queue": queue.sid, "timeout": 100}]}
    ]}}  # fmt: skip
    flow = tr.workspaces(ws.sid).workflows.create(
        friendly_name="wf", configuration=json.dumps(config), assignment_callback_url=callback,
        task_reservation_timeout=20,
    )  # fmt: skip
    tr.workspaces(ws.sid).workers.create(
        friendly_name="ann", activity_sid=on.sid,
        attributes=json.dumps({"team": "a", "contact_uri": "+15557770001"}),
    )  # fmt: skip
    return ws.sid, flow.sid


def test_enqueue_with_task_attributes_reaches_the_agent(d: TwilioDouble) -> None:
    callback = "https://app.example.com/assign"
    _, workflow = _workspace(d, callback)
    d.voice.internet.script(callback, Answer.json('{"instruction": "dequeue", "from": "+1"}'))
    d.voice.internet.script(
        BACKUP,
        twiml(f'<Enqueue workflowSid="{workflow}" waitUrl="/wait.xml" action="/done">'
              '<Task priority="2">{"kind": "x"}</Task></Enqueue>'),
    )  # fmt: skip
    d.voice.internet.script("https://backup.example.com/wait.xml", twiml('<Pause length="30"/>'))
    d.voice.internet.script("https://backup.example.com/done", twiml("<Hangup/>"))
    journey = d.place_call(LINE, CALLER, primary="http_500", callees={"+15557770001": "answer:7"})
    assert journey.answered_by == "agent ann (+15557770001)"
    assign = next(r for r in journey.requests if r["url"] == callback)
    assert json.loads(assign["params"]["TaskAttributes"])["kind"] == "x"
    assert assign["params"]["TaskPriority"] == "2" and valid(d, assign)
    done = journey.requests[-1]
    assert done["params"]["QueueResult"] == "bridged"


def test_leave_in_the_wait_document_gives_queue_result_leave(d: TwilioDouble) -> None:
    _, workflow = _workspace(d, "https://app.example.com/assign")
    d.voice.internet.script(
        BACKUP, twiml(f'<Enqueue workflowSid="{workflow}" waitUrl="w.xml" action="done"/>')
    )
    d.voice.internet.script("https://backup.example.com/w.xml", twiml("<Say>Hold.</Say><Leave/>"))
    d.voice.internet.script("https://backup.example.com/done", twiml("<Say>Bye.</Say>"))
    journey = d.place_call(LINE, CALLER, primary="http_500")  # callback refused: no dequeue
    assert journey.requests[-1]["params"]["QueueResult"] == "leave"
    (task,) = d.voice.taskrouter.tasks.values()
    assert task.status == "canceled"
    assert journey.find("agent") == []  # the pending reservation was canceled, not timed out
    (ann,) = d.state.workers.values()
    assert ann["activity_name"] == "On"


@pytest.mark.parametrize(("multitask", "second"), [(True, "voicemail"), (False, "answered")])
def test_a_wrapping_task_holds_the_agent_only_in_a_multitasking_workspace(
    d: TwilioDouble, multitask: bool, second: str
) -> None:
    callback = "https://app.example.com/assign"
    _, workflow = _workspace(d, callback, multitask=multitask)
    d.voice.internet.script(callback, Answer.json('{"instruction": "dequeue", "from": "+1"}'))
    d.voice.internet.script(
        BACKUP,
        twiml(f'<Enqueue workflowSid="{workflow}" waitUrl="/w.xml"><Task>{{"kind": "x"}}</Task>'
              '</Enqueue><Record action="/bye"/>'),
    )  # fmt: skip
    d.voice.internet.script(
        "https://backup.example.com/w.xml", twiml('<Pause length="200"/><Leave/>')
    )
    d.voice.internet.script("https://backup.example.com/bye", twiml("<Hangup/>"))
    first, later = d.voice.place_calls(
        [CallSpec(LINE, CALLER, "http_500"), CallSpec(LINE, "+16285550100", "http_500", at=10)],
        callees={"+15557770001": "answer"},
    )
    assert first.outcome == "answered"
    assert later.outcome == second


# -- the standalone double's HTTP endpoint ----------------------------------------------------
def test_post_double_calls_answers_the_journey_and_is_no_twilio_traffic(d: TwilioDouble) -> None:
    d.voice.internet.script(BACKUP, twiml("<Say>Over HTTP.</Say>"))
    before = len(d.requests)
    body = json.dumps({"To": LINE, "From": CALLER, "Primary": "http_500"}).encode()
    request = urllib.request.Request(
        f"{d.base_url}/_double/calls", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        journey = json.loads(response.read())
    assert journey["outcome"] == "message"
    assert [s["text"] for s in journey["steps"] if s["kind"] == "say"] == ["Over HTTP."]
    assert len(d.requests) == before and d.violations == []
