"""Callers' journeys through the call queues of the shipped lines.yaml (severity severe).

After a real apply the main line queues callers for alice and bob, support for all five
agents. Agents' phones are scripted (answer, miss, their own voicemail); TaskRouter runs as
Twilio documents it, on the double's virtual clock. Journeys today's product gets wrong are
strict xfails naming the defect.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.model import Severity
from tests.test_journeys import CALLER, NUMBERS, Applied, applied_double, checked, steps
from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import PrimaryOutcome
from tests.twilio_double.people import Caller
from tests.twilio_double.voice import CallSpec

ALICE, BOB, CAROL = "+14155550111", "+14155550112", "+14155550113"
HOLD = "Please hold for the next available agent."


@pytest.fixture(scope="module")
def severe(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.SEVERE)


@pytest.fixture
def d(severe: Applied) -> Iterator[TwilioDouble]:
    yield from checked(severe)


def on_duty(d: TwilioDouble, *names: str) -> None:
    """Only ``names`` are On Duty (the others Off Duty)."""
    for worker in list(d.state.workers.values()):
        activity = "On Duty" if worker["friendly_name"] in names else "Off Duty"
        d.voice.taskrouter.set_activity(worker["friendly_name"], activity)


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
        ("pause", "60 s"),
        ("bridged", f"to agent alice ({ALICE})"),
        ("answered", f"by agent alice ({ALICE})"),
        ("talk", "60 s"),
    ]
    assert journey.answered_by == f"agent alice ({ALICE})"
    (task,) = d.voice.taskrouter.tasks.values()
    assert task.attributes["line"] == "main" and task.attributes["call_sid"] == journey.call_sid
    assert task.status == "wrapping"  # in a multitasking workspace only an API call completes it
    assert activity(d, "alice") == "On Duty"  # the post-work activity


def test_the_longest_idle_agents_take_the_first_callers(d: TwilioDouble) -> None:
    on_duty(d, "alice", "bob")
    journeys = d.voice.place_calls(callers(2), callees={ALICE: "answer", BOB: "answer"})
    assert [j.answered_by for j in journeys] == [f"agent alice ({ALICE})", f"agent bob ({BOB})"]


def test_with_nobody_on_duty_callers_hold_then_leave_a_voicemail(d: TwilioDouble) -> None:
    on_duty(d)
    journey = d.place_call(NUMBERS["main"], CALLER, primary="http_500")
    kinds = journey.kinds()
    assert kinds.count("pause") == 3 and "leave" in kinds
    assert journey.find("leave")[0].at == pytest.approx(186, abs=1)
    assert journey.outcome == "voicemail"
    (task,) = d.voice.taskrouter.tasks.values()
    assert task.status == "canceled"


def test_an_agent_going_off_duty_gets_no_calls(d: TwilioDouble) -> None:
    on_duty(d, "alice", "bob")
    d.voice.taskrouter.set_activity("alice", "Off Duty")
    journey = d.place_call(NUMBERS["main"], CALLER, primary="http_500", callees={BOB: "answer"})
    assert journey.answered_by == f"agent bob ({BOB})"
    assert [s.text for s in journey.find("agent")] == [
        f"ringing bob at {BOB} (dequeue timeout 60 s)"
    ]


def test_a_caller_hanging_up_in_the_queue_cancels_the_task(d: TwilioDouble) -> None:
    on_duty(d)
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", caller=Caller(hangup_after=40)
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


def test_an_agent_missing_the_call_is_moved_off_duty_after_20_s(d: TwilioDouble) -> None:
    """The dequeue rings up to 60 s, the reservation times out after 20 s (the workflow's
    TaskReservationTimeout) and TaskRouter moves the agent to the timeout activity."""
    on_duty(d, "alice", "bob")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "no-answer", BOB: "answer:5"}
    )
    agent = [(s.at, s.text) for s in journey.find("agent")]
    assert agent[:2] == [
        (0.0, f"ringing alice at {ALICE} (dequeue timeout 60 s)"),
        (20.0, "reservation of alice timed out after 20 s; alice is now Off Duty"),
    ]
    assert journey.answered_by == f"agent bob ({BOB})"
    assert activity(d, "alice") == "Off Duty"
    assert "worker alice -> Off Duty" in journey.changes


@pytest.mark.xfail(
    strict=True,
    reason="the dequeue rings 60 s by default but the reservation times out after 20 s: an "
    "agent who picks up on the 5th ring finds nobody, and is moved Off Duty",
)
def test_an_agent_picking_up_after_25_s_gets_the_caller(d: TwilioDouble) -> None:
    on_duty(d, "alice")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "answer:25"}
    )
    assert journey.answered_by == f"agent alice ({ALICE})"
    assert activity(d, "alice") == "On Duty"


@pytest.mark.xfail(
    strict=True,
    reason="an agent who misses one ring-out is moved Off Duty by the reservation timeout "
    "and silently stops taking calls until someone puts them back",
)
def test_an_agent_who_missed_one_call_answers_the_next(d: TwilioDouble) -> None:
    on_duty(d, "alice")
    first, second = d.voice.place_calls(
        callers(2, every=200), callees={ALICE: ["no-answer", "answer"]}
    )
    assert first.outcome == "voicemail"
    assert second.answered_by == f"agent alice ({ALICE})"


def test_an_agents_own_voicemail_takes_the_queued_caller(d: TwilioDouble) -> None:
    """The dequeue instruction bridges whatever answers the agent's phone."""
    on_duty(d, "alice")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "voicemail"}
    )
    assert journey.answered_by == f"voicemail of agent alice ({ALICE})"
    assert not d.state.recordings  # the message is in alice's mobile mailbox, not the line's


@pytest.mark.xfail(
    strict=True,
    reason="agent voicemail takes the caller: dequeue has no whisper/confirm step, so a "
    "voicemail answering the agent's phone is bridged and the line's voicemail never runs",
)
def test_a_caller_is_never_bridged_to_an_agents_voicemail(d: TwilioDouble) -> None:
    on_duty(d, "alice")
    journey = d.place_call(
        NUMBERS["main"], CALLER, primary="http_500", callees={ALICE: "voicemail"}
    )
    assert journey.outcome == "voicemail"
    assert journey.recording_sid in d.state.recordings


def test_each_agent_takes_one_queued_call_then_gets_no_reservation(d: TwilioDouble) -> None:
    """Tasks stay wrapping (nothing completes them), so capacity 1 stays used."""
    on_duty(d, "alice", "bob")
    journeys = d.voice.place_calls(callers(4), callees={ALICE: "answer", BOB: "answer"})
    assert [j.outcome for j in journeys] == ["answered", "answered", "voicemail", "voicemail"]
    statuses = sorted(t.status for t in d.voice.taskrouter.tasks.values())
    assert statuses == ["canceled", "canceled", "wrapping", "wrapping"]
    assert activity(d, "alice") == activity(d, "bob") == "On Duty"


@pytest.mark.xfail(
    strict=True,
    reason="tasks are never completed: in a multitasking workspace a task stays wrapping "
    "until an API call completes it, so each agent answers one queued caller and the next "
    "callers hold for the whole queue timeout and go to voicemail",
)
def test_agents_answer_every_caller_once_free(d: TwilioDouble) -> None:
    on_duty(d, "alice", "bob")
    journeys = d.voice.place_calls(callers(4), callees={ALICE: "answer", BOB: "answer"})
    assert [j.outcome for j in journeys] == ["answered"] * 4


def test_completing_the_task_through_the_api_frees_the_agent(d: TwilioDouble) -> None:
    """What the fix must do: once the task is completed (TaskRouter's REST API), the agent's
    voice capacity is free and their next caller is answered."""
    on_duty(d, "alice")
    first = d.voice.place_calls(callers(1), callees={ALICE: "answer"})[0]
    assert first.outcome == "answered"
    (workspace,) = d.state.workspaces
    tasks = d.client().taskrouter.v1.workspaces(workspace).tasks
    (wrapping,) = tasks.list(assignment_status=["wrapping"])
    assert wrapping.attributes and '"line": "main"' in wrapping.attributes
    assert (
        tasks(wrapping.sid).update(assignment_status="completed").assignment_status == "completed"
    )
    second = d.voice.place_calls(callers(1), callees={ALICE: "answer"})[0]
    assert second.answered_by == f"agent alice ({ALICE})"
