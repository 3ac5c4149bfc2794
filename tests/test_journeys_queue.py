"""Callers' journeys through the call queues of the shipped lines.yaml (severity severe).

After a real apply the main line queues callers for alice and bob, support for all five
agents. Agents' phones are scripted (answer, miss, their own voicemail); TaskRouter runs as
Twilio documents it, on the double's virtual clock. Journeys today's product gets wrong are
strict xfails naming the defect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.model import Severity
from tests.test_journeys import CALLER, NUMBERS, Applied, applied_double, checked, steps
from tests.test_scenarios import lines
from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import PrimaryOutcome
from tests.twilio_double.people import Caller
from tests.twilio_double.voice import CallSpec

ALICE, BOB, CAROL = "+14155550111", "+14155550112", "+14155550113"
HOLD = "Please hold for the next available agent."
NOBODY = "Nobody can take your call right now."


def whisper(line: str, caller: str = CALLER) -> str:
    """What an agent hears on picking up: the line, the caller's digits, press 1."""
    return f"Call for {line} from {' '.join(caller.lstrip('+'))}. Press 1 to accept."


@pytest.fixture(scope="module")
def severe(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.SEVERE)


@pytest.fixture
def d(severe: Applied) -> Iterator[TwilioDouble]:
    yield from checked(severe)


def on_duty(d: TwilioDouble, *names: str) -> None:
    """Only ``names`` are On Duty (the others Off Duty), going On Duty in that order, so the
    first named is the longest idle (not whichever worker the apply happened to create first:
    workers are created concurrently)."""
    for worker in list(d.state.workers.values()):
        if worker["friendly_name"] not in names:
            d.voice.taskrouter.set_activity(worker["friendly_name"], "Off Duty")
    for name in names:
        d.voice.taskrouter.set_activity(name, "On Duty")


def activity(d: TwilioDouble, name: str) -> str:
    (worker,) = [w for w in d.state.workers.values() if w["friendly_name"] == name]
    return worker["activity_name"]


def callers(count: int, line: str = "main", every: float = 10, **caller: Any) -> list[CallSpec]:
    return [
        CallSpec(
            NUMBERS[line], f"+1628555{i:04d}", PrimaryOutcome.http_500, Caller(**caller), i * every
        )
        for i in range(count)
    ]


def test_an_agent_answers_the_queued_caller(d: TwilioDouble) -> None:
    on_duty(d, "alice", "bob")
    journey = d.place_call(NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "answer:4"})
    assert steps(journey) == [
        ("enqueue", f"workflow {next(iter(d.state.workflows))}"),
        ("say", HOLD),
        ("say", "You are number 1 in line."),
        ("pause", "20 s"),
        ("bridged", f"to agent alice ({ALICE})"),
        ("answered", f"by agent alice ({ALICE})"),
        ("talk", "60 s"),
    ]
    assert journey.answered_by == f"agent alice ({ALICE})"
    (task,) = d.voice.taskrouter.tasks.values()
    assert task.attributes["line"] == "main" and task.attributes["call_sid"] == journey.call_sid
    assert task.status == "completed"  # by /agent-status, once alice's leg ended
    assert "completed by an API call" not in task.history[-1]
    assert task.history[-1].endswith("AssignmentStatus=completed through the API")
    assert activity(d, "alice") == "On Duty"


def test_the_hold_message_gives_each_callers_place_in_the_lines_queue(d: TwilioDouble) -> None:
    """TaskRouter's order for this line (oldest first), not Twilio's voice queue, which every
    line of the workflow shares: a caller of support waiting first does not count for main."""
    on_duty(d, "alice", "carol")
    specs = [
        CallSpec(
            NUMBERS["support"], "+16285550001", PrimaryOutcome.http_500, Caller(hangup_after=20), 0
        ),
        *callers(3, every=1, hangup_after=20),
    ]
    support, *main = d.voice.place_calls(specs, callees={ALICE: "no-answer", CAROL: "no-answer"})
    assert [s for s in support.said() if s.startswith("You are")][0] == "You are number 1 in line."
    places = [[s for s in j.said() if s.startswith("You are")][0] for j in main]
    assert places == [f"You are number {n} in line." for n in (1, 2, 3)]


def test_the_longest_idle_agents_take_the_first_callers(d: TwilioDouble) -> None:
    on_duty(d, "alice", "bob")
    journeys = d.voice.place_calls(callers(2), callees={ALICE: "answer", BOB: "answer"})
    assert [j.answered_by for j in journeys] == [f"agent alice ({ALICE})", f"agent bob ({BOB})"]


def test_who_is_longest_idle_does_not_depend_on_the_order_workers_were_created(
    d: TwilioDouble,
) -> None:
    """The apply creates workers concurrently, so their order in the account varies from run to
    run (it made these journeys flaky after tests/test_drift.py); agents going On Duty at the
    same virtual second keep the order they went On Duty in."""
    d.state.workers = dict(reversed(list(d.state.workers.items())))
    on_duty(d, "alice", "bob")
    journeys = d.voice.place_calls(callers(2), callees={ALICE: "answer", BOB: "answer"})
    assert [j.answered_by for j in journeys] == [f"agent alice ({ALICE})", f"agent bob ({BOB})"]


def test_with_nobody_on_duty_the_caller_reaches_voicemail_at_once(d: TwilioDouble) -> None:
    """No caller stranded: the hold document (/queue-wait) finds nobody On Duty for the line
    on its first request and leaves, instead of holding for the whole queue timeout."""
    on_duty(d)
    journey = d.place_call(NUMBERS["main"], CALLER, primary="http_500")
    assert "pause" not in journey.kinds()
    assert [s.text for s in journey.find("say")][0] == NOBODY
    assert journey.find("leave")[0].at < 5
    assert journey.outcome == "voicemail"
    assert journey.recording_sid in d.state.recordings
    (task,) = d.voice.taskrouter.tasks.values()
    assert task.status == "canceled"


def test_the_last_agent_going_off_duty_sends_holding_callers_to_voicemail(
    d: TwilioDouble,
) -> None:
    """The hold document checks every HOLD_CHUNK_S (20 s): once nobody On Duty serves the
    line, the holding caller leaves within one cycle."""
    on_duty(d, "alice")
    d.voice.sim.at(30, lambda: d.voice.taskrouter.set_activity("alice", "Off Duty"))
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "no-answer"}
    )
    (leave,) = journey.find("leave")
    assert 30 < leave.at <= 30 + 20 + 5
    assert journey.outcome == "voicemail"


def test_callers_hold_at_most_the_queue_timeout_then_leave_a_voicemail(d: TwilioDouble) -> None:
    """Alice is On Duty but misses the call (she is not offered it again): the caller holds,
    reminded every 20 s, and leaves at the line's queue timeout (180 s)."""
    on_duty(d, "alice")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "no-answer"}
    )
    kinds = journey.kinds()
    assert kinds.count("pause") >= 6 and "leave" in kinds
    assert journey.find("leave")[0].at == pytest.approx(180, abs=5)
    assert journey.outcome == "voicemail"
    assert activity(d, "alice") == "On Duty"


def test_an_agent_going_off_duty_gets_no_calls(d: TwilioDouble) -> None:
    on_duty(d, "alice", "bob")
    d.voice.taskrouter.set_activity("alice", "Off Duty")
    journey = d.place_call(NUMBERS["main"], CALLER, primary="http_500", callees={BOB: "answer"})
    assert journey.answered_by == f"agent bob ({BOB})"
    assert [s.text for s in journey.find("agent")] == [
        f"ringing bob at {BOB} (call timeout 30 s)",
        f'bob hears "{whisper("Main line")}"',
        "bob presses 1",
    ]


def test_a_caller_hanging_up_in_the_queue_cancels_the_task(d: TwilioDouble) -> None:
    on_duty(d, "alice")
    journey = d.place_call(
        NUMBERS["main"],
        CALLER,
        primary="http_500",
        callees={ALICE: "no-answer"},
        caller=Caller(hangup_after=40),
    )
    assert journey.outcome == "caller-hung-up"
    (task,) = d.voice.taskrouter.tasks.values()
    assert task.status == "canceled"
    assert not d.state.recordings


def test_support_queue_reaches_agents_of_support_only(d: TwilioDouble) -> None:
    on_duty(d, "carol")
    journey = d.place_call(
        NUMBERS["support"], CALLER, primary="http_500", callees={CAROL: "answer"}
    )
    assert journey.answered_by == f"agent carol ({CAROL})"
    main = d.place_call(NUMBERS["main"], CALLER, primary="http_500")
    assert main.outcome == "voicemail"  # carol is not a main-line agent


def test_an_agent_missing_the_call_stays_on_duty_and_the_next_agent_rings(
    d: TwilioDouble,
) -> None:
    """The call rings 30 s; the missed leg's status callback rejects the reservation, so
    bob rings at once (not after the 45 s reservation timeout) and alice stays On Duty."""
    on_duty(d, "alice", "bob")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "no-answer", BOB: "answer:5"}
    )
    agent = [(s.at, s.text) for s in journey.find("agent")]
    assert agent == [
        (0.0, f"ringing alice at {ALICE} (call timeout 30 s)"),
        (30.0, "alice: no-answer after 30 s"),
        (30.0, f"ringing bob at {BOB} (call timeout 30 s)"),
        (35.0, f'bob hears "{whisper("Main line")}"'),
        (43.0, "bob presses 1"),
    ]
    assert journey.answered_by == f"agent bob ({BOB})"
    assert activity(d, "alice") == "On Duty"
    assert not any("timed out" in change for change in journey.changes)


def test_an_agent_picking_up_after_25_s_gets_the_caller(d: TwilioDouble) -> None:
    on_duty(d, "alice")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "answer:25"}
    )
    assert journey.answered_by == f"agent alice ({ALICE})"
    assert activity(d, "alice") == "On Duty"


def test_an_agent_who_missed_one_call_answers_the_next(d: TwilioDouble) -> None:
    on_duty(d, "alice")
    first, second = d.voice.place_calls(
        callers(2, every=200), callees={ALICE: ["no-answer", "answer"]}
    )
    assert first.outcome == "voicemail"
    assert second.answered_by == f"agent alice ({ALICE})"


def test_an_agents_voicemail_never_takes_the_caller_who_stays_queued_for_the_next_agent(
    d: TwilioDouble,
) -> None:
    """Alice's phone is answered by her voicemail: the whisper asks for 1, nothing is
    pressed, the leg hangs up; /agent-status rejects the reservation (alice stays On Duty)
    and bob, the next agent, takes the caller."""
    on_duty(d, "alice", "bob")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "voicemail", BOB: "answer"}
    )
    assert journey.answered_by == f"agent bob ({BOB})"
    agent = [s.text for s in journey.find("agent")]
    assert agent[:5] == [
        f"ringing alice at {ALICE} (call timeout 30 s)",
        f'alice hears "{whisper("Main line")}"',
        "alice presses nothing",
        "alice hangs up",
        "alice: the call was not taken (hangup)",
    ]
    assert agent[5] == f"ringing bob at {BOB} (call timeout 30 s)"
    assert not d.state.recordings
    assert activity(d, "alice") == "On Duty"
    assert not any("timed out" in change for change in journey.changes)


def test_an_agent_declining_in_the_whisper_passes_the_caller_on_and_stays_on_duty(
    d: TwilioDouble,
) -> None:
    """Any key but 1 declines like no key: /agent-status rejects the reservation, bob rings
    at once, and alice (still On Duty) gets the next caller."""
    on_duty(d, "alice", "bob")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "decline", BOB: "answer"}
    )
    agent = [s.text for s in journey.find("agent")]
    assert agent[2:4] == ["alice presses 2", "alice hangs up"]
    assert journey.answered_by == f"agent bob ({BOB})"
    assert activity(d, "alice") == "On Duty"
    (task,) = d.voice.taskrouter.tasks.values()
    assert [r.status for r in task.reservations] == ["rejected", "accepted"]


def test_a_caller_is_never_bridged_to_an_agents_voicemail(d: TwilioDouble) -> None:
    """With only alice On Duty and her voicemail answering, the caller is never bridged:
    after the bounded hold the caller leaves a message in the line's own voicemail."""
    on_duty(d, "alice")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "voicemail"}
    )
    assert "bridged" not in journey.kinds()
    assert journey.outcome == "voicemail"
    assert journey.recording_sid in d.state.recordings


def test_the_whisper_says_the_line_and_the_callers_number(d: TwilioDouble) -> None:
    on_duty(d, "carol")
    journey = d.place_call(
        NUMBERS["support"], "+442079460999", primary="http_500", callees={CAROL: "answer"}
    )
    assert journey.answered_by == f"agent carol ({CAROL})"
    heard = [s.text for s in journey.find("agent") if " hears " in s.text]
    assert heard == [f'carol hears "{whisper("Customer support", "+442079460999")}"']
    whisper_requests = [r for r in journey.requests if "/agent-whisper" in r["url"]]
    assert [r["signed"] for r in whisper_requests] == [True, True]
    assert whisper_requests[1]["params"]["Digits"] == "1"


def test_two_agents_answer_six_callers_in_sequence(d: TwilioDouble) -> None:
    on_duty(d, "alice", "bob")
    journeys = d.voice.place_calls(callers(6, every=40), callees={ALICE: "answer", BOB: "answer"})
    assert [j.outcome for j in journeys] == ["answered"] * 6
    assert {j.answered_by for j in journeys} == {f"agent alice ({ALICE})", f"agent bob ({BOB})"}
    assert sorted(t.status for t in d.voice.taskrouter.tasks.values()) == ["completed"] * 6


def test_agents_answer_every_caller_once_free(d: TwilioDouble) -> None:
    """Each task is completed when the agent's leg ends (/agent-status), which frees the
    agent's voice capacity for the next caller."""
    on_duty(d, "alice", "bob")
    journeys = d.voice.place_calls(callers(4), callees={ALICE: "answer", BOB: "answer"})
    assert [j.outcome for j in journeys] == ["answered"] * 4
    assert sorted(t.status for t in d.voice.taskrouter.tasks.values()) == ["completed"] * 4


def test_the_task_is_completed_through_the_api_when_the_agents_leg_ends(
    d: TwilioDouble,
) -> None:
    """/agent-status completes the task with TaskRouter's REST API (contract-checked by the
    double), so the API shows it completed with its reason and alice takes the next caller."""
    on_duty(d, "alice")
    first = d.voice.place_calls(callers(1), callees={ALICE: "answer"})[0]
    assert first.outcome == "answered"
    (workspace,) = d.state.workspaces
    tasks = d.client().taskrouter.v1.workspaces(workspace).tasks
    assert tasks.list(assignment_status=["wrapping"]) == []
    (completed,) = tasks.list(assignment_status=["completed"])
    assert completed.attributes and '"line": "main"' in completed.attributes
    assert completed.reason == "agent call ended"
    second = d.voice.place_calls(callers(1), callees={ALICE: "answer"})[0]
    assert second.answered_by == f"agent alice ({ALICE})"


@pytest.fixture(scope="module")
def queue_test(twilio_spec_dir: Path) -> Iterator[Applied]:
    """The shipped lines with ``queue.test`` on main, applied at severity minor."""
    config = lines()
    main = next(line for line in config.lines if line.id == "main")
    assert main.queue is not None
    tested = dataclasses.replace(main, queue=dataclasses.replace(main.queue, test=True))
    config = dataclasses.replace(
        config, lines=tuple(tested if line.id == "main" else line for line in config.lines)
    )
    yield from applied_double(twilio_spec_dir, Severity.MINOR, config)


def test_queue_test_mode_puts_a_caller_into_the_queue_with_the_primary_up(
    queue_test: Applied,
) -> None:
    """With ``queue.test`` a call to main goes straight into its queue at severity minor (no
    outage needed) and an agent takes it after the whisper; sales is untouched."""
    for d in checked(queue_test):
        on_duty(d, "alice")
        journey = d.place_call(NUMBERS["main"], CALLER, callees={ALICE: "answer"})
        assert journey.find("error") == []  # nothing failed: the primary *is* the queue
        assert journey.kinds()[:3] == ["ring", "enqueue", "say"]
        assert journey.answered_by == f"agent alice ({ALICE})"
        healthy = d.place_call(NUMBERS["sales"], CALLER, primary="ok")
        assert "enqueue" not in healthy.kinds()
