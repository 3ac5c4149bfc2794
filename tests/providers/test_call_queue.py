"""CallQueue through Pulumi's real provider host, against the Twilio double."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.providers.call_queue import CallQueueProvider
from tests.harness.host import UNKNOWN, HostError, ProviderHost
from tests.harness.support import Driven

CALLBACK = "https://acme-dev-failover-1234-failover.twil.io/assign"


def queue(host: ProviderHost) -> Driven:
    return Driven(host, CallQueueProvider(), "CallQueue", "call-queue")


def agent(phone: str, *centers: str, **extra: Any) -> dict[str, Any]:
    return {"attributes": {"contact_uri": phone, "contact_centers": list(centers)}, **extra}


def args(**overrides: Any) -> dict[str, Any]:
    return {
        "workspace_name": "acme-dev-failover",
        "queues": {
            "support": {"target_workers": 'contact_centers HAS "support"', "timeout_s": 300},
            "main": {"target_workers": 'contact_centers HAS "main"', "timeout_s": 180},
        },
        "workers": {
            "alice": agent("+14155550111", "main", "support"),
            "bob": agent("+14155550112", "main"),
        },
        "assignment_callback_url": CALLBACK,
        **overrides,
    }


def by_name(table: dict[str, Any]) -> dict[str, Any]:
    return {r["friendly_name"]: r for r in table.values()}


def test_lifecycle_routes_queues_keeps_duty_and_repairs_attributes(
    double: Any, host: ProviderHost
) -> None:
    res = queue(host)
    outs = res.create(args())
    state = double.state
    workspace = state.workspaces[res.id]
    activities = by_name(state.activities)
    assert (activities["On Duty"]["available"], activities["Off Duty"]["available"]) == (
        True,
        False,
    )
    assert (
        workspace["default_activity_sid"]
        == workspace["timeout_activity_sid"]
        == (outs["off_duty_activity_sid"])
    )
    assert workspace["multi_task_enabled"] is True
    queues = by_name(state.task_queues)
    assert queues["support"]["target_workers"] == 'contact_centers HAS "support"'
    workflow = by_name(state.workflows)["failover"]
    routing = json.loads(workflow["configuration"])["task_routing"]
    assert routing["filters"][1] == {
        "filter_friendly_name": "support",
        "expression": 'queue == "support"',
        "targets": [{"queue": queues["support"]["sid"], "timeout": 300}],
    }
    assert "default_filter" not in routing  # every task names its queue
    assert (workflow["assignment_callback_url"], workflow["task_reservation_timeout"]) == (
        CALLBACK,
        20,
    )
    workers = by_name(state.workers)
    assert json.loads(workers["alice"]["attributes"]) == args()["workers"]["alice"]["attributes"]
    assert workers["alice"]["activity_name"] == "On Duty"
    assert res.diff(args())["changes"] == "DIFF_NONE"

    client = double.client(timeout=5)  # alice goes off duty: runtime state, never reverted
    ws = client.taskrouter.v1.workspaces(res.id)
    ws.workers(workers["alice"]["sid"]).update(activity_sid=outs["off_duty_activity_sid"])
    ws.workers(workers["bob"]["sid"]).update(attributes=json.dumps({"contact_uri": "+1999"}))
    outs = res.refresh()
    assert outs["workers"]["alice"]["activity_name"] == "Off Duty"
    assert json.loads(outs["workers"]["bob"]["attributes"]) == {"contact_uri": "+1999"}
    assert res.diff(args())["changes"] == "DIFF_SOME"  # bob's attributes drifted

    carol = agent("+14155550113", "support", initial_activity="off_duty")
    changed = args(
        workers={**args()["workers"], "carol": carol}, assignment_callback_url=CALLBACK + "?v=2"
    )
    before = double.writes()
    outs = res.update(changed)
    assert double.writes() - before == {
        "Worker.update": 1,
        "Worker.create": 1,
        "Workflow.update": 1,
    }
    workers = by_name(state.workers)
    assert workers["alice"]["activity_name"] == "Off Duty"  # not reverted
    assert workers["carol"]["activity_name"] == "Off Duty"  # initial activity on create
    assert json.loads(workers["bob"]["attributes"]) == args()["workers"]["bob"]["attributes"]
    assert res.diff(changed)["changes"] == "DIFF_NONE"

    outs = res.update({**changed, "workflow_name": "failover-v2"})  # renamed, not duplicated
    assert sorted(by_name(state.workflows)) == ["failover-v2"]
    assert res.diff({**changed, "workflow_name": "failover-v2"})["changes"] == "DIFF_NONE"

    smaller = args(
        queues={"support": args()["queues"]["support"]},
        workers={"alice": args()["workers"]["alice"]},
    )
    outs = res.update(smaller)
    assert set(by_name(state.task_queues)) == {"support"}
    assert set(by_name(state.workers)) == {"alice"}
    assert outs["routing"] == {"filters": [["support", 300]], "default": None}

    res.delete()
    assert state.workspaces == {} and state.workers == {}


def test_workers_found_by_name_case_insensitively_are_adopted(
    double: Any, host: ProviderHost
) -> None:
    res = queue(host)
    res.create(args())
    other = queue(host)  # state lost (e.g. the stack recreated): everything exists already
    outs = other.create(
        args(workers={"ALICE": args()["workers"]["alice"], "bob": args()["workers"]["bob"]})
    )
    assert other.id == res.id
    assert len(double.state.workers) == 2 and outs["workers"]["ALICE"]["sid"]
    assert double.writes()["Worker.create"] == 2 and double.writes()["Workspace.create"] == 1


@pytest.mark.parametrize("nth", [1, 3, 8, 10])
def test_interrupted_runs_converge_without_duplicates(
    double: Any, host: ProviderHost, nth: int
) -> None:
    """Writes: 1 workspace, 2-3 activities, 4 default activity, 5-6 queues, 7 workflow,
    8-9 workers. Each is applied but its answer lost; the re-run must not duplicate."""
    double.faults.add(fail_nth_write=nth, applied=True, reset=True)
    res = queue(host)
    if nth <= 9:
        with pytest.raises(HostError, match="could not reach Twilio"):
            res.create(args())
    outs = res.create(args())
    state = double.state
    assert len(state.workspaces) == 1
    assert sorted(by_name(state.task_queues)) == ["main", "support"]
    assert sorted(by_name(state.workflows)) == ["failover"]
    assert sorted(by_name(state.workers)) == ["alice", "bob"]
    names = [a["friendly_name"] for a in state.activities.values()]
    assert names.count("On Duty") == names.count("Off Duty") == 1
    assert res.diff(args())["changes"] == "DIFF_NONE" and outs["workflow_sid"]


def test_bursts_of_429_and_5xx_on_reads_are_absorbed(double: Any, host: ProviderHost) -> None:
    flaky = double.faults.add(status=502, times=2, match="GET")  # backoff 0, then 0.5 s
    limited = double.faults.add(
        status=429, retry_after=0.01, times=6, match="taskrouter.twilio.com"
    )
    queue(host).create(args())
    assert (limited.fired, flaky.fired) == (6, 2)
    assert double.writes()["Worker.create"] == 2


def test_check_reports_problems_and_diff_is_pure(double: Any, host: ProviderHost) -> None:
    res = queue(host)
    _, failures = res.check(
        args(
            queues={},
            default_queue="nope",
            workers={"a": {"attributes": "x"}, "A": {}, "b": {"initial_activity": "lunch"}},
            assignment_callback_url="ftp://x",
        )
    )
    reasons = " | ".join(r for _, r in failures)
    assert "at least one queue" in reasons and "differ only in case" in reasons
    assert "initial_activity" in reasons and "attributes must be an object" in reasons
    assert {p for p, _ in failures} >= {
        "queues",
        "default_queue",
        "workers",
        "assignment_callback_url",
    }
    res.create(args())
    seen = len(double.requests)
    assert res.diff(args(assignment_callback_url=UNKNOWN))["changes"] == "DIFF_SOME"
    assert res.diff(args(default_queue="main"))["changes"] == "DIFF_SOME"
    changed = args()
    changed["workers"]["alice"]["initial_activity"] = "off_duty"
    assert res.diff(changed)["changes"] == "DIFF_SOME"  # recorded, but activity never reset
    assert len(double.requests) == seen
    double.client(timeout=5).taskrouter.v1.workspaces(res.id).delete()
    assert host.read(res.urn, res.id, res.outputs)[0] == ""
