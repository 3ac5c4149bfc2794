"""TaskRouter at work: tasks from queued calls, reservations, agents' phones ringing.

What moves what (sources in README "Calls"):
- A task starts ``pending``; the workflow's filters (first matching ``expression`` over the
  task attributes) pick a target queue; when the target's ``timeout`` passes without an
  accepted reservation the task is ``canceled`` (the caller keeps holding); a caller who
  hangs up or leaves cancels a pending/reserved task (assumed).
- A worker is eligible when its activity is available, it matches the queue's
  ``target_workers``, it did not reject this task, and it has free capacity: in a
  multitasking workspace the voice channel holds 1 task, and a task counts while
  ``reserved``, ``assigned`` or ``wrapping`` - only an API call completes it; in a
  single-tasking workspace only ``reserved``/``assigned`` count. Longest idle goes first.
- Reserving: task ``reserved``, reservation ``pending``, the workflow's
  ``assignment_callback_url`` (else the fallback one) is POSTed, signed, with TaskRouter's
  documented parameters, and ``task_reservation_timeout`` (default 120 s) starts. A
  reservation still pending then times out: the worker moves to the workspace's
  ``timeout_activity_sid`` and the task goes back to ``pending``.
- Instructions: ``accept`` (assigned, nothing is dialled), ``reject`` (optionally moving the
  worker to ``activity_sid``), ``dequeue`` (``to`` or the worker's ``contact_uri``,
  ``from``, ``timeout`` default 60 s, ``post_work_activity_sid``): the agent's phone rings
  (:class:`~.people.Callee` scripts); an answer - by the agent or by their voicemail -
  before the reservation times out accepts it (task ``assigned``) and bridges the caller;
  no answer leaves the reservation pending until it times out (assumed). When the bridged
  call ends the task is ``wrapping`` and the worker moves to ``post_work_activity_sid``.
  With ``status_callback_url`` the agent leg's end is POSTed there (signed, like a Voice
  status callback) with its final ``CallStatus`` (``completed`` after an answer, else
  ``no-answer``/``busy``/``failed``, ``canceled`` when the reservation ended first).
- ``call`` (``to`` or ``contact_uri``, ``from``, ``url``, ``accept``, ``timeout`` default
  60 s, ``status_callback_url``; twilio-taskrouter.js ``Reservation.call``): the agent's
  phone rings the same way; once answered, ``url`` runs on the agent's leg
  (:mod:`.callee_leg`): a person presses 1 when asked, a voicemail presses nothing. Its
  ``<Dial><Queue reservationSid>`` accepts the still-pending reservation and bridges the
  caller ("When the dequeue succeeds, Twilio bridges the worker to the queued caller and
  marks the pending Reservation as accepted", https://www.twilio.com/docs/api/errors/14215);
  a reservation no longer pending fails the dial and the leg ends. With ``accept: true`` the
  reservation is accepted as soon as the phone answers. The leg's end goes to
  ``status_callback_url`` as for ``dequeue`` (``completed`` whenever the phone answered).
- REST (:mod:`.tasks_api`): ``reject`` a pending reservation (optionally moving the worker);
  the task is pending again and not offered to that worker again.
Must not import: infra.*
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import callee_leg
from .callflow import Process, Signal, Sleep, Wait
from .expressions import matches
from .people import PICK_UP, Callee
from .state import Record, iso, now

if TYPE_CHECKING:
    from .voice import LiveCall, VoiceNetwork

DEQUEUE_TIMEOUT = 60.0
LIVE = ("reserved", "assigned", "wrapping")


@dataclass
class Reservation:
    sid: str
    worker_sid: str
    status: str = "pending"
    ended: Signal = field(default_factory=Signal)


@dataclass
class Task:
    sid: str
    workspace_sid: str
    workflow_sid: str
    queue_sid: str | None
    attributes: dict[str, Any]
    priority: int
    created: float
    call: LiveCall
    status: str = "pending"
    worker_sid: str | None = None
    reservations: list[Reservation] = field(default_factory=list)
    refused_by: set[str] = field(default_factory=set)
    history: list[str] = field(default_factory=list)
    reason: str | None = None


@dataclass
class Bridge:
    """Handed to the waiting caller when an agent's phone picked up."""

    worker_name: str
    number: str
    script: Callee
    on_end: Callable[[], None]


class TaskRouterRunner:
    def __init__(self, net: VoiceNetwork) -> None:
        self.net = net
        self.tasks: dict[str, Task] = {}
        # When each worker became idle, as (virtual second, sequence): two workers freed in the
        # same virtual second keep the order it happened in, never the order they were created
        # (which concurrent creation makes arbitrary).
        self.idle_since: dict[str, tuple[float, int]] = {}
        self._idle_seq = itertools.count()

    # -- public --------------------------------------------------------------------------
    def waiting_calls(self) -> list[LiveCall]:
        pending = [t for t in self.tasks.values() if t.status in ("pending", "reserved")]
        return [t.call for t in sorted(pending, key=lambda t: t.created)]

    def tasks_of(self, status: str | None = None) -> list[Task]:
        return [t for t in self.tasks.values() if status is None or t.status == status]

    def set_activity(self, worker: str, activity: str) -> None:
        """Move a worker (SID or friendly name) to an activity (SID or friendly name)."""
        record = self._worker(worker)
        for candidate in self.net.state.activities.values():
            if candidate["workspace_sid"] == record["workspace_sid"] and activity in (
                candidate["sid"], candidate["friendly_name"],
            ):  # fmt: skip
                self._move(record, candidate["sid"])
                self.dispatch()
                return
        raise KeyError(f"no activity {activity!r} in workspace {record['workspace_sid']}")

    def complete(self, task_sid: str) -> None:
        """What the TaskRouter API's ``AssignmentStatus=completed`` does to a task."""
        task = self.tasks[task_sid]
        if task.status in ("assigned", "wrapping"):
            self.move(task, "completed", "completed by an API call")

    def move(self, task: Task, status: str, why: str) -> None:
        """An API-driven status change (see :mod:`.tasks_api`); frees capacity at once."""
        if status == "canceled":
            self.cancel(task, why)
            return
        self._status(task, status, why)
        if status == "completed" and task.worker_sid:
            self._idle(task.worker_sid)
        self.dispatch()

    # -- tasks ---------------------------------------------------------------------------
    def create_task(
        self, call: LiveCall, workflow_sid: str, attributes: dict[str, Any], priority: int,
        ttl: int,
    ) -> Task | None:  # fmt: skip
        workflow = self.net.state.workflows.get(workflow_sid)
        if workflow is None:
            return None
        # Tasks made by <Enqueue> carry the caller's call_sid (a dequeue needs it:
        # https://www.twilio.com/docs/api/errors/40140); `failover agents sweep` reads it.
        attributes = {**attributes, "call_sid": call.sid, "from": call.from_, "to": call.to}
        queue_sid, timeout = _route(workflow, attributes)
        task = Task(
            self.net.state.sids.new("WT"), workflow["workspace_sid"], workflow_sid, queue_sid,
            attributes, priority, self.net.sim.now, call,
        )  # fmt: skip
        self.tasks[task.sid] = task
        call.on_hangup.append(lambda _call: self.cancel(task, "the caller hung up"))
        call.change(f"task {task.sid} created (pending) in queue {queue_sid}")
        if timeout is not None:
            self.net.sim.at(timeout, lambda: self.cancel(task, "workflow timeout (last target)"))
        if ttl:
            self.net.sim.at(ttl, lambda: self.cancel(task, "task TTL exceeded"))
        self.dispatch()
        return task

    def cancel(self, task: Task, why: str) -> None:
        if task.status not in ("pending", "reserved"):
            return
        for reservation in task.reservations:
            if reservation.status == "pending":
                self._end(reservation, "canceled")
        self._status(task, "canceled", why)
        self.dispatch()

    def dispatch(self) -> None:
        """Offer every pending task, highest priority then oldest first, to an idle worker."""
        for task in sorted(self.tasks_of("pending"), key=lambda t: (-t.priority, t.created)):
            worker = self._pick(task)
            if worker is not None:
                self._reserve(task, worker)

    # -- selection -----------------------------------------------------------------------
    def _pick(self, task: Task) -> Record | None:
        queue = self.net.state.task_queues.get(task.queue_sid or "")
        if queue is None:
            return None
        eligible = []
        for worker in self.net.state.workers.values():
            if worker["workspace_sid"] != task.workspace_sid or not worker.get("available"):
                continue
            if worker["sid"] in task.refused_by or self._busy(worker):
                continue
            if matches(queue.get("target_workers"), _attributes(worker)):
                eligible.append(worker)
        if not eligible:
            return None
        order = list(self.net.state.workers)
        return min(
            eligible,
            key=lambda w: (self.idle_since.get(w["sid"], (-1e9, 0)), order.index(w["sid"])),
        )

    def _busy(self, worker: Record) -> bool:
        workspace = self.net.state.workspaces[worker["workspace_sid"]]
        counted = LIVE if workspace.get("multi_task_enabled", True) else ("reserved", "assigned")
        load = sum(
            1 for t in self.tasks.values() if t.worker_sid == worker["sid"] and t.status in counted
        )
        return load >= 1  # the voice channel's capacity is 1

    # -- reservations --------------------------------------------------------------------
    def _reserve(self, task: Task, worker: Record) -> None:
        reservation = Reservation(self.net.state.sids.new("WR"), worker["sid"])
        task.reservations.append(reservation)
        task.worker_sid = worker["sid"]
        self._status(task, "reserved", f"reserved for {worker['friendly_name']}")
        workflow = self.net.state.workflows[task.workflow_sid]
        timeout = int(workflow.get("task_reservation_timeout") or 120)
        self.net.sim.at(timeout, lambda: self._timeout(task, reservation, worker, timeout))
        instruction = self._assignment_callback(task, reservation, worker, workflow)
        kind = (instruction or {}).get("instruction")
        if kind in ("dequeue", "call"):
            self.net.sim.spawn(self._dequeue(task, reservation, worker, instruction or {}))
        elif kind == "accept":
            self._accept(task, reservation)
        elif kind == "reject":
            self.reject(task, reservation, (instruction or {}).get("activity_sid"))
        else:
            task.history.append(f"no usable instruction: {instruction!r}")

    def reject(self, task: Task, reservation: Reservation, activity_sid: str | None) -> None:
        """A pending reservation rejected (instruction or REST): the task is pending again,
        never offered to this worker again; the worker moves to ``activity_sid`` if given."""
        worker = self.net.state.workers[reservation.worker_sid]
        self._end(reservation, "rejected")
        task.refused_by.add(worker["sid"])
        if activity_sid:
            self._move(worker, activity_sid, task.call)
        if task.status == "reserved":
            self._status(task, "pending", f"{worker['friendly_name']} rejected")
        self.net.sim.at(0, self.dispatch)

    def _assignment_callback(
        self, task: Task, reservation: Reservation, worker: Record, workflow: Record
    ) -> dict[str, Any] | None:
        params = {
            "AccountSid": self.net.state.account_sid, "WorkspaceSid": task.workspace_sid,
            "WorkflowSid": task.workflow_sid, "TaskQueueSid": task.queue_sid or "",
            "WorkerSid": worker["sid"], "WorkerAttributes": worker.get("attributes") or "{}",
            "TaskSid": task.sid, "TaskAttributes": json.dumps(task.attributes),
            "TaskAge": str(int(self.net.sim.now - task.created)),
            "TaskPriority": str(task.priority), "ReservationSid": reservation.sid,
            "Timestamp": str(int(self.net.sim.now)),
        }  # fmt: skip
        for key in ("assignment_callback_url", "fallback_assignment_callback_url"):
            url = workflow.get(key)
            if not url:
                continue
            fetched = self.net.request(url, "POST", params)
            task.call.journey.requests.append(fetched.log())
            if fetched.ok:
                try:
                    return json.loads(fetched.body)
                except json.JSONDecodeError:
                    return None
        return None

    def _dequeue(
        self, task: Task, reservation: Reservation, worker: Record, instruction: dict[str, Any]
    ) -> Process:
        to = instruction.get("to") or _attributes(worker).get("contact_uri") or ""
        ring_limit = float(instruction.get("timeout") or DEQUEUE_TIMEOUT)
        script = self.net.callees.next_for(to)
        name = worker["friendly_name"]
        call = task.call
        kind = str(instruction.get("instruction"))
        call.step("agent", f"ringing {name} at {to} ({kind} timeout {ring_limit:g} s)")
        picks_up = script.kind in PICK_UP and script.delay < ring_limit
        ring = (
            script.delay if script.kind != "no-answer" and script.delay < ring_limit else ring_limit
        )
        leg = self.net.state.sids.new("CA")
        status_url = instruction.get("status_callback_url")

        def leg_ended(status: str) -> None:
            if status_url:
                params = {
                    "AccountSid": self.net.state.account_sid, "CallSid": leg, "From":
                    str(instruction.get("from") or ""), "To": to, "Direction": "outbound-api",
                    "CallStatus": status,
                }  # fmt: skip
                fetched = self.net.request(str(status_url), "POST", params)
                call.journey.requests.append(fetched.log())

        ended = yield Wait(reservation.ended, ring)
        if ended is not None:
            leg_ended("canceled")  # the reservation ended first (timeout, caller gone)
            return
        if not picks_up:
            outcome = script.kind if script.kind not in PICK_UP else "no-answer"
            call.step("agent", f"{name}: {outcome} after {ring:g} s")
            leg_ended(outcome if outcome in ("busy", "failed") else "no-answer")
            return
        if kind == "call" and instruction.get("accept") is not True:
            taken = yield from self._whisper(task, reservation, name, to, script, instruction, leg)
            if not taken:
                leg_ended("completed")
                return
        self._accept(task, reservation)
        post_work = instruction.get("post_work_activity_sid")

        def on_end() -> None:
            self._status(task, "wrapping", "the bridged call ended")
            self._idle(worker["sid"])
            if post_work:
                self._move(worker, post_work, call)
            leg_ended("completed")
            self.dispatch()

        call.interrupt(Bridge(name, to, script, on_end))

    def _whisper(
        self, task: Task, reservation: Reservation, name: str, to: str, script: Callee,
        instruction: dict[str, Any], leg: str,
    ) -> Process:  # fmt: skip
        """Run the call instruction's ``url`` on the agent's leg; True when it bridges."""
        call = task.call

        def spend(seconds: float) -> Process:
            yield Sleep(seconds)
            return True

        def log(text: str, request: dict[str, Any]) -> None:
            if request:
                call.journey.requests.append(request)
            if text:
                call.step("agent", f"{name} {text}")

        params = {
            "AccountSid": self.net.state.account_sid, "CallSid": leg,
            "From": str(instruction.get("from") or ""), "To": to, "Direction": "outbound-api",
            "CallStatus": "in-progress",
        }  # fmt: skip
        url = str(instruction.get("url") or "")
        result = yield from callee_leg.run(self.net, url, "POST", params, script, spend, log)
        if result.outcome != "queue":
            call.step("agent", f"{name}: the call was not taken ({result.outcome})")
            return False
        if (
            result.reservation_sid != reservation.sid or reservation.status != "pending"
            or not call.in_queue
        ):  # fmt: skip
            call.step("agent", f"{name}: <Queue reservationSid> failed: the caller is gone")
            return False
        return True

    def _accept(self, task: Task, reservation: Reservation) -> None:
        self._end(reservation, "accepted")
        self._status(task, "assigned", "reservation accepted")

    def _timeout(self, task: Task, reservation: Reservation, worker: Record, after: int) -> None:
        if reservation.status != "pending":
            return
        self._end(reservation, "timeout")
        workspace = self.net.state.workspaces[task.workspace_sid]
        target = workspace.get("timeout_activity_sid")
        if target:
            self._move(worker, target, task.call)
        task.call.step(
            "agent", f"reservation of {worker['friendly_name']} timed out after {after} s; "
            f"{worker['friendly_name']} is now {worker.get('activity_name')}",
        )  # fmt: skip
        if task.status == "reserved":
            self._status(task, "pending", "reservation timed out")
        self.dispatch()

    # -- bookkeeping ---------------------------------------------------------------------
    def _end(self, reservation: Reservation, status: str) -> None:
        reservation.status = status
        self.net.sim.fire(reservation.ended, status)

    def _status(self, task: Task, status: str, why: str) -> None:
        task.status = status
        if status in ("pending", "canceled"):
            task.worker_sid = None if status == "pending" else task.worker_sid
        task.history.append(f"{self.net.sim.now:.0f}s {status}: {why}")
        task.call.change(f"task {task.sid} {status} ({why})")

    def _move(self, worker: Record, activity_sid: str, call: LiveCall | None = None) -> None:
        activity = self.net.state.activities.get(activity_sid)
        if activity is None or activity["workspace_sid"] != worker["workspace_sid"]:
            return
        if worker.get("activity_sid") != activity_sid:
            worker["date_status_changed"] = iso(now())
            if call is not None:
                call.change(f"worker {worker['friendly_name']} -> {activity['friendly_name']}")
        worker.update(
            activity_sid=activity_sid, activity_name=activity["friendly_name"],
            available=activity["available"],
        )  # fmt: skip
        if activity["available"]:
            if worker["sid"] not in self.idle_since:
                self._idle(worker["sid"])

    def _idle(self, worker_sid: str) -> None:
        self.idle_since[worker_sid] = (self.net.sim.now, next(self._idle_seq))

    def _worker(self, ref: str) -> Record:
        for worker in self.net.state.workers.values():
            if ref in (worker["sid"], worker["friendly_name"]):
                return worker
        raise KeyError(f"no worker {ref!r}")


def _attributes(record: Record) -> dict[str, Any]:
    try:
        value = json.loads(record.get("attributes") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _route(workflow: Record, attributes: dict[str, Any]) -> tuple[str | None, float | None]:
    """(queue SID, target timeout) of the first filter matching the task (else default)."""
    try:
        routing = json.loads(workflow.get("configuration") or "{}").get("task_routing", {})
    except json.JSONDecodeError:
        return None, None
    for entry in routing.get("filters", []):
        if matches(entry.get("expression"), attributes) and entry.get("targets"):
            target = entry["targets"][0]
            return target.get("queue"), target.get("timeout")
    default = routing.get("default_filter") or {}
    return default.get("queue"), None
