"""``failover agents sweep``: queue tasks left open after their call ended are completed, so
their agent is offered calls again (the backstop for a lost ``/agent-status`` completion).

Runs against the double after a real apply of the shipped lines.yaml at severity severe; the
lost completion is TaskRouter answering 503 to ``/agent-status``'s Task update."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.cli.status import ExitCode
from infra.model import Severity
from tests.harness.cli_runner import failover
from tests.test_drift import ROOT, credentials
from tests.test_journeys import NUMBERS, Applied, applied_double, checked
from tests.test_journeys_queue import CAROL, on_duty
from tests.twilio_double import TwilioDouble

TASK_UPDATE = "POST taskrouter.twilio.com /v1/Workspaces/WS*/Tasks/WT" + "?" * 32


@pytest.fixture(scope="module")
def severe(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.SEVERE)


@pytest.fixture
def d(severe: Applied) -> Iterator[TwilioDouble]:
    yield from checked(severe)


def sweep(d: TwilioDouble, *args: str) -> tuple[ExitCode, dict[str, Any]]:
    result = failover(
        "agents", "sweep", "--format", "json", *args, cwd=ROOT, environ=credentials(d)
    )
    assert result.stderr == "", result.stderr
    return result.code, json.loads(result.stdout)


def carol_answers(d: TwilioDouble, caller: str) -> bool:
    journey = d.place_call(
        NUMBERS["support"], caller, primary="http_500", callees={CAROL: "answer"}
    )
    return journey.answered_by == f"agent carol ({CAROL})"


def test_a_task_left_open_by_a_lost_completion_is_swept_and_the_agent_gets_calls_again(
    d: TwilioDouble,
) -> None:
    on_duty(d, "carol")
    lost = d.faults.add(status=503, times=1, match=TASK_UPDATE)
    assert carol_answers(d, "+15550000001")
    assert lost.fired == 1  # /agent-status tried to complete the task and TaskRouter refused
    # Carol's capacity is held by the finished call's task: the next caller is not offered to her.
    assert not carol_answers(d, "+15550000002")

    writes = d.writes()
    code, report = sweep(d, "--dry-run")
    assert code == ExitCode.CHANGES
    assert d.writes() == writes  # a dry run changes nothing
    (task,) = report["tasks"]
    assert (task["line"], task["call_status"], task["action"]) == (
        "support", "completed", "would complete",
    )  # fmt: skip
    assert task["assignment_status"] in ("assigned", "wrapping")

    code, report = sweep(d)
    assert code == ExitCode.OK
    assert [t["action"] for t in report["tasks"]] == ["completed"]
    assert d.voice.taskrouter.tasks[task["task"]].status == "completed"
    assert carol_answers(d, "+15550000003")
    assert sweep(d) == (ExitCode.OK, {**report, "tasks": []})


def test_nothing_to_sweep_after_calls_that_ended_normally(d: TwilioDouble) -> None:
    on_duty(d, "carol")
    assert carol_answers(d, "+15550000004")
    before = len(d.requests)
    code, report = sweep(d, "--dry-run")
    assert (code, report["tasks"]) == (ExitCode.OK, [])
    # One workspace lookup and one task list: no worker or activity reads.
    made = [(r.method, r.path.rsplit("/", 1)[-1]) for r in d.requests[before:]]
    assert made == [("GET", "Workspaces"), ("GET", "Tasks")]


def test_the_text_report_names_each_task_and_what_was_done(d: TwilioDouble) -> None:
    on_duty(d, "carol")
    d.faults.add(status=503, times=1, match=TASK_UPDATE)
    assert carol_answers(d, "+15550000005")
    result = failover("agents", "sweep", "--dry-run", cwd=ROOT, environ=credentials(d))
    assert result.code == ExitCode.CHANGES
    first, summary = result.stdout.splitlines()
    assert first.startswith("WT") and "line support" in first
    assert first.endswith("call completed: would complete")
    assert summary == "1 open task; would complete 1"
