"""Queue tasks left open after their call ended, and completing them (``failover agents sweep``).

Why: the stack's workspace is multitasking, so a task keeps its agent's voice capacity until
it is *completed* through the API (task states pending → reserved → assigned → wrapping →
completed: https://www.twilio.com/docs/taskrouter/lifecycle-task-state; the Task update's
``AssignmentStatus=completed`` from ``assigned`` or ``wrapping``, Twilio's OpenAPI
``twilio_taskrouter_v1.json``; the double's ``tasks_api`` does the same). ``/agent-status``
completes each task when the agent's leg ends (queue design D1). If that callback is lost
(the Function failed, TaskRouter answered 5xx, the status callback never came: unconfirmed,
README "Verify on a live account first"), the agent keeps the task and TaskRouter offers
them no further call. This is the backstop: a task of the stack's workspace that is
``assigned`` or ``wrapping`` while the caller's call has ended holds capacity for nothing,
so it is completed.

How a task's call is known: tasks created by ``<Enqueue>`` carry the caller's ``call_sid``
in their attributes (a dequeue needs it: https://www.twilio.com/docs/api/errors/40140).
A call has ended when its status is one of ``completed``, ``busy``, ``failed``,
``no-answer``, ``canceled`` (https://www.twilio.com/docs/voice/api/call-resource, "Call
Status values"). A task without ``call_sid``, or whose call cannot be read, is left alone:
the sweep only completes what it can show is over.

Costs: one task list request (``AssignmentStatus`` filter, up to 1,000 per page, at most as
many tasks as agents have capacity), one call fetch per such task, one update per stuck task.

Must not import: pulumi, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.values import text

OPEN_STATUSES = ("assigned", "wrapping")
"""Task statuses that hold an agent's capacity (``reserved`` is a ringing offer, which ends
by itself with the reservation's timeout)."""
ENDED_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
REASON = "the caller's call had ended (failover agents sweep)"


@dataclass(frozen=True, slots=True)
class OpenTask:
    """An ``assigned``/``wrapping`` task of the stack's workspace and its caller's call."""

    sid: str
    line: str
    assignment_status: str
    age_s: int
    call_sid: str
    call_status: str
    """The caller's call status now; "" when the task has no ``call_sid`` or it cannot be read."""

    @property
    def stuck(self) -> bool:
        return self.call_status in ENDED_CALL_STATUSES


def open_tasks(tw: Twilio, workspace_sid: str) -> list[OpenTask]:
    """The workspace's tasks holding capacity, oldest first, each with its call's status."""
    tasks = tw.rest.taskrouter.v1.workspaces(workspace_sid).tasks
    with tw.errors("stack", "list TaskRouter tasks", writes=False):
        listed = list(tasks.list(assignment_status=list(OPEN_STATUSES), page_size=1000))
    found = []
    for task in listed:
        attributes = _attributes(text(task.attributes))
        call_sid = str(attributes.get("call_sid") or "")
        found.append(
            OpenTask(
                sid=text(task.sid),
                line=str(attributes.get("line") or ""),
                assignment_status=text(task.assignment_status),
                age_s=int(task.age or 0),
                call_sid=call_sid,
                call_status=_call_status(tw, call_sid) if call_sid.startswith("CA") else "",
            )
        )
    return found


def complete(tw: Twilio, workspace_sid: str, task: OpenTask) -> None:
    """Complete ``task`` (its call has ended), which returns its agent's capacity."""
    tasks = tw.rest.taskrouter.v1.workspaces(workspace_sid).tasks
    subject = f"line {task.line}" if task.line else "stack"
    with tw.errors(subject, f"complete TaskRouter task {task.sid}"):
        tasks(task.sid).update(assignment_status="completed", reason=REASON)


def _attributes(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _call_status(tw: Twilio, call_sid: str) -> str:
    """The call's status, or "" when Twilio has no such call (404) for this account."""
    try:
        with tw.errors("stack", f"read call {call_sid}", writes=False):
            return text(tw.rest.api.v2010.account.calls(call_sid).fetch().status)
    except NotFoundError:
        return ""
