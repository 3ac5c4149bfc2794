"""TaskRouter convergence: one workspace per stack on the declared queues, workers and workflow.

The ``CallQueue`` provider calls ``reconcile``; account reads use the list/fetch helpers.
Behaviour relied on (each from Twilio's docs; reference twilio.md §5):
- activities: ``available`` cannot change after creation
  (https://www.twilio.com/docs/taskrouter/api/activity);
- the workspace's ``timeout_activity_sid`` is where an agent goes when a reservation times out
  (https://www.twilio.com/docs/taskrouter/api/workspace);
- worker names are compared case-insensitively by TaskRouter (assumed: undocumented; if wrong,
  two agents differing only in case would be two workers, which ``check`` refuses anyway);
- the workflow ``Configuration`` is the document ``infra.render.taskrouter.workflow_document``
  renders, with queue SIDs filled in, so what ``plan --out`` shows is what runs.

Task queues and workers are created, updated and deleted ``tw.concurrency`` at a time
(``infra.twilio.concurrency``); the first failure in name order is raised and no new write
starts after one.

Must not import: pulumi, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

import json
from typing import Any

from infra.errors import ProviderError
from infra.naming import OFF_DUTY, ON_DUTY
from infra.render.taskrouter import route_expression, workflow_document
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.concurrency import bounded_map, values
from infra.twilio.values import canonical_json, integral, text

ACTIVITIES = {"on_duty": ON_DUTY, "off_duty": OFF_DUTY}


def attributes_of(worker: dict[str, Any]) -> str:
    return canonical_json(worker.get("attributes") or {})


def routing_of(inputs: dict[str, Any]) -> dict[str, Any]:
    """The workflow in queue keys: what the live configuration must mean."""
    queues = inputs["queues"]
    timeouts = {k: queues[k].get("timeout_s") for k in queues}
    return {
        "filters": [
            [k, None if t is None else int(integral(t))] for k, t in sorted(timeouts.items())
        ],
        "default": inputs.get("default_queue"),
    }


def find_or_create_workspace(tw: Twilio, name: str) -> Any:
    """The workspace named ``name`` (looked up first, so a retried create never duplicates it),
    created multi-tasking when missing; ProviderError when several share the name."""
    workspaces = tw.rest.taskrouter.v1.workspaces
    with tw.errors(name, f"look up TaskRouter workspace {name!r}"):
        found = [
            w for w in workspaces.list(friendly_name=name, page_size=100) if w.friendly_name == name
        ]
    if len(found) > 1:
        raise ProviderError(
            name,
            (
                f"{len(found)} TaskRouter workspaces are named {name!r}; delete the extra ones "
                "in the Twilio console so the tool knows which one to manage"
            ),
        )
    if found:
        return found[0]
    with tw.errors(name, f"create TaskRouter workspace {name!r}"):
        return workspaces.create(friendly_name=name, multi_task_enabled=True)


def reconcile(
    tw: Twilio, props: dict[str, Any], workspace: Any, previous: dict[str, Any]
) -> dict[str, Any]:
    name = props["workspace_name"]
    ws = tw.rest.taskrouter.v1.workspaces(workspace.sid)
    on_duty, off_duty = _ensure_activities(tw, name, ws)
    if (workspace.default_activity_sid, workspace.timeout_activity_sid) != (off_duty, off_duty):
        with tw.errors(name, "set the workspace's default activity to Off Duty"):
            workspace = ws.update(default_activity_sid=off_duty, timeout_activity_sid=off_duty)
    queues = _ensure_queues(tw, props, ws)
    workflow = _ensure_workflow(tw, props, ws, queues, text(previous.get("workflow_sid")))
    workers = _ensure_workers(
        tw,
        props,
        ws,
        {ACTIVITIES["on_duty"]: on_duty, ACTIVITIES["off_duty"]: off_duty},
        previous.get("workers") or {},
    )
    for key in sorted(set(previous.get("queues") or {}) - set(queues)):
        sid = previous["queues"][key].get("sid")
        try:
            with tw.errors(name, f"delete task queue {key!r}"):
                ws.task_queues(sid).delete()
        except NotFoundError:
            pass
    outs = {
        "workspace_sid": workspace.sid,
        "workspace_name": workspace.friendly_name,
        "on_duty_activity_sid": on_duty,
        "off_duty_activity_sid": off_duty,
        "queues": {k: queue_out(q) for k, q in queues.items()},
        "workers": workers,
    }
    outs.update(workflow_out(workflow, queues))
    return outs


def list_all(tw: Twilio, name: str, what: str, collection: Any) -> list[Any]:
    with tw.errors(name, f"list {what}"):
        return list(collection.list(page_size=1000))


def fetch_workspace(tw: Twilio, name: str, sid: str) -> Any:
    with tw.errors(name, f"fetch TaskRouter workspace {sid}"):
        return tw.rest.taskrouter.v1.workspaces(sid).fetch()


def fetch_worker(tw: Twilio, name: str, ws: Any, sid: str) -> Any:
    with tw.errors(name, f"fetch worker {sid}"):
        return ws.workers(sid).fetch()


def activity_sid(activities: list[Any], label: str, available: bool) -> str:
    for activity in activities:
        if activity.friendly_name == label and bool(activity.available) == available:
            return str(activity.sid)
    return ""


def _ensure_activities(tw: Twilio, name: str, ws: Any) -> tuple[str, str]:
    activities = list_all(tw, name, "activities", ws.activities)
    sids = []
    for label, available in ((ON_DUTY, True), (OFF_DUTY, False)):
        sid = activity_sid(activities, label, available)
        if not sid and any(a.friendly_name == label for a in activities):
            raise ProviderError(
                name,
                (
                    f"activity {label!r} exists with available={not available}; TaskRouter cannot "
                    "change that. Rename or delete it in the Twilio console"
                ),
            )
        if not sid:
            with tw.errors(name, f"create activity {label!r}"):
                sid = ws.activities.create(friendly_name=label, available=available).sid
        sids.append(sid)
    return sids[0], sids[1]


def _ensure_queues(tw: Twilio, props: dict[str, Any], ws: Any) -> dict[str, Any]:
    name = props["workspace_name"]
    live = {q.friendly_name: q for q in list_all(tw, name, "task queues", ws.task_queues)}

    def ensure(item: tuple[str, dict[str, Any]]) -> Any:
        key, spec = item
        queue = live.get(key)
        if queue is None:
            with tw.errors(key, f"create task queue {key!r}"):
                return ws.task_queues.create(
                    friendly_name=key, target_workers=spec["target_workers"]
                )
        if queue.target_workers != spec["target_workers"]:
            with tw.errors(key, f"update task queue {key!r}"):
                return ws.task_queues(queue.sid).update(target_workers=spec["target_workers"])
        return queue

    items = sorted(props["queues"].items())
    done = values(bounded_map(ensure, items, limit=tw.concurrency, stop_on_error=True))
    return {key: queue for (key, _), queue in zip(items, done, strict=True)}


def _configuration(props: dict[str, Any], queues: dict[str, Any]) -> str:
    """The rendered workflow document (``workflow_document``) with the live queue SIDs."""
    routing = routing_of(props)
    document = workflow_document(
        [(key, timeout) for key, timeout in routing["filters"]],
        lambda key: queues[key].sid,
        default_queue=routing["default"],
    )
    return canonical_json(document)


def _ensure_workflow(
    tw: Twilio, props: dict[str, Any], ws: Any, queues: dict[str, Any], previous_sid: str
) -> Any:
    """Find the workflow by name (or, after a rename, by its previous SID); converge it."""
    name, label = props["workspace_name"], props["workflow_name"]
    desired = {
        "configuration": _configuration(props, queues),
        "assignment_callback_url": props["assignment_callback_url"],
        "task_reservation_timeout": int(integral(props["task_reservation_timeout"])),
    }
    workflows = list_all(tw, name, "workflows", ws.workflows)
    found = [w for w in workflows if w.friendly_name == label]
    found = found or [w for w in workflows if previous_sid and w.sid == previous_sid]
    if not found:
        with tw.errors(name, f"create workflow {label!r}"):
            return ws.workflows.create(friendly_name=label, **desired)
    workflow = found[0]
    live = {
        "configuration": canonical_text(workflow.configuration),
        "assignment_callback_url": workflow.assignment_callback_url,
        "task_reservation_timeout": integral(workflow.task_reservation_timeout),
    }
    if live == desired and workflow.friendly_name == label:
        return workflow
    with tw.errors(name, f"update workflow {label!r}"):
        return ws.workflows(workflow.sid).update(friendly_name=label, **desired)


def _ensure_workers(
    tw: Twilio, props: dict[str, Any], ws: Any, activity: dict[str, str], previous: dict[str, Any]
) -> dict[str, Any]:
    """Create missing workers with their initial activity; update attributes only."""
    name = props["workspace_name"]
    live = {w.friendly_name.lower(): w for w in list_all(tw, name, "workers", ws.workers)}
    wanted = sorted(props["workers"].items())
    found = {key: live.pop(key.lower(), None) for key, _ in wanted}

    def ensure(item: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        key, spec = item
        attributes = attributes_of(spec)
        worker = found[key]
        if worker is None:
            initial = ACTIVITIES[spec.get("initial_activity", "on_duty")]
            with tw.errors(key, f"create worker {key!r}"):
                worker = ws.workers.create(
                    friendly_name=key, attributes=attributes, activity_sid=activity[initial]
                )
            return worker_out(worker, attributes)
        known = (previous.get(key) or {}).get("attributes")
        if known is None or (previous.get(key) or {}).get("sid") != worker.sid:
            known = canonical_text(fetch_worker(tw, name, ws, worker.sid).attributes)
        if known != attributes:
            with tw.errors(key, f"update worker {key!r}"):
                worker = ws.workers(worker.sid).update(attributes=attributes)
        return worker_out(worker, attributes)

    def remove(key: str) -> None:
        try:
            with tw.errors(key, f"delete worker {key!r}"):
                ws.workers(live[key.lower()].sid).delete()
        except NotFoundError:
            pass

    done = values(bounded_map(ensure, wanted, limit=tw.concurrency, stop_on_error=True))
    workers = {key: out for (key, _), out in zip(wanted, done, strict=True)}
    # only workers this resource managed
    gone = [k for k in sorted(set(previous) - set(props["workers"])) if k.lower() in live]
    values(bounded_map(remove, gone, limit=tw.concurrency, stop_on_error=True))
    return workers


def canonical_text(value: object) -> str:
    try:
        return canonical_json(json.loads(value) if isinstance(value, str) else value or {})
    except ValueError:
        return text(value)


def queue_out(queue: Any) -> dict[str, Any]:
    return {"sid": queue.sid, "target_workers": queue.target_workers}


def worker_out(worker: Any, attributes: str | None = None) -> dict[str, Any]:
    return {
        "sid": worker.sid,
        "attributes": attributes if attributes is not None else canonical_text(worker.attributes),
        "activity_name": text(worker.activity_name),
    }


def workflow_out(workflow: Any, queues: dict[str, Any]) -> dict[str, Any]:
    """The workflow's live routing expressed in queue keys (unknown SIDs kept as is)."""
    if workflow is None:
        return {
            "workflow_sid": "",
            "routing": None,
            "assignment_callback_url": "",
            "task_reservation_timeout": None,
        }
    names = {q.sid: key for key, q in queues.items()}
    try:
        config = json.loads(workflow.configuration or "{}").get("task_routing", {})
        filters = []
        for entry in config.get("filters", []):
            target = entry["targets"][0]
            key = names.get(target["queue"], target["queue"])
            timeout = target.get("timeout")
            filters.append([key, None if timeout is None else int(timeout)])
            if entry.get("expression") != route_expression(key):
                filters[-1].append(entry.get("expression"))  # edited elsewhere: drift
        default = (config.get("default_filter") or {}).get("queue")
        routing: dict[str, Any] | None = {
            "filters": filters,
            "default": names.get(default, default),
        }
    except (ValueError, AttributeError, KeyError, TypeError):
        routing = None
    return {
        "workflow_sid": workflow.sid,
        "routing": routing,
        "assignment_callback_url": text(workflow.assignment_callback_url),
        "task_reservation_timeout": integral(workflow.task_reservation_timeout),
    }
