"""The Twilio double's TaskRouter v1, driven through the official twilio library."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.twilio_double import TwilioDouble


@pytest.fixture
def workspace(twilio_client):  # type: ignore[no-untyped-def]
    return twilio_client.taskrouter.v1.workspaces.create(
        friendly_name="acme-failover", multi_task_enabled=True
    )


def test_contact_center_pieces(twilio_double: TwilioDouble, twilio_client, workspace) -> None:
    ws = twilio_client.taskrouter.v1.workspaces(workspace.sid)
    on_duty = ws.activities.create(friendly_name="On Duty", available=True)
    off_duty = ws.activities.create(friendly_name="Off Duty", available=False)
    ws.update(default_activity_sid=off_duty.sid, timeout_activity_sid=off_duty.sid)
    queue = ws.task_queues.create(
        friendly_name="support", target_workers='contact_centers HAS "support"', task_order="FIFO"
    )
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    workflow = ws.workflows.create(
        friendly_name="failover",
        configuration=json.dumps(config),
        assignment_callback_url="https://acme-1234-prod.twil.io/assign",
        task_reservation_timeout=30,
    )
    worker = ws.workers.create(
        friendly_name="alice",
        activity_sid=off_duty.sid,
        attributes=json.dumps({"contact_uri": "+15551230001", "contact_centers": ["support"]}),
    )

    assert (ws.fetch().default_activity_name, ws.fetch().timeout_activity_sid) == (
        "Off Duty",
        off_duty.sid,
    )
    assert (queue.target_workers, queue.max_reserved_workers) == (
        'contact_centers HAS "support"',
        1,
    )
    assert (workflow.task_reservation_timeout, json.loads(workflow.configuration)) == (30, config)
    assert (worker.activity_name, worker.available) == ("Off Duty", False)
    assert on_duty.available is True
    assert twilio_double.writes() == {
        "Workspace.create": 1,
        "Workspace.update": 1,
        "Activity.create": 2,
        "TaskQueue.create": 1,
        "Workflow.create": 1,
        "Worker.create": 1,
    }


def test_concurrent_creates_are_all_kept(
    twilio_double: TwilioDouble, twilio_client, workspace
) -> None:
    workers = twilio_client.taskrouter.v1.workspaces(workspace.sid).workers

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda n: workers.create(friendly_name=f"agent{n}").sid, range(24)))

    assert len(set(created)) == 24
    assert len(workers.list(page_size=10)) == 24
    assert twilio_double.writes()["Worker.create"] == 24


def test_new_workspace_has_default_activities_and_channels(twilio_client, workspace) -> None:
    ws = twilio_client.taskrouter.v1.workspaces(workspace.sid)

    assert {(a.friendly_name, a.available) for a in ws.activities.list()} == {
        ("Offline", False),
        ("Available", True),
        ("Unavailable", False),
    }
    assert workspace.default_activity_name == "Offline"
    assert {c.unique_name for c in ws.task_channels.list()} == {"default", "voice"}
    assert [a.friendly_name for a in ws.activities.list(available="true")] == ["Available"]


def test_worker_attributes_only_on_fetch(twilio_client, workspace) -> None:
    ws = twilio_client.taskrouter.v1.workspaces(workspace.sid)
    sid = ws.workers.create(friendly_name="bob", attributes='{"contact_uri": "+15551230002"}').sid

    assert [w.attributes for w in ws.workers.list()] == [None]
    assert json.loads(ws.workers(sid).fetch().attributes) == {"contact_uri": "+15551230002"}
    assert ws.workers(sid).fetch().activity_name == "Offline"  # workspace default


def test_worker_names_are_unique_case_insensitively(twilio_client, workspace) -> None:
    workers = twilio_client.taskrouter.v1.workspaces(workspace.sid).workers
    workers.create(friendly_name="Alice")

    with pytest.raises(TwilioRestException) as raised:
        workers.create(friendly_name="alice")

    assert raised.value.status == 409
    assert len(workers.list()) == 1


def test_worker_activity_change_moves_availability(twilio_client, workspace) -> None:
    ws = twilio_client.taskrouter.v1.workspaces(workspace.sid)
    available = next(a for a in ws.activities.list() if a.available)
    sid = ws.workers.create(friendly_name="carol").sid

    moved = ws.workers(sid).update(activity_sid=available.sid)

    assert (moved.activity_name, moved.available) == ("Available", True)
    assert [w.friendly_name for w in ws.workers.list(activity_sid=available.sid)] == ["carol"]


def test_available_cannot_be_updated(twilio_double: TwilioDouble, workspace) -> None:
    activity = twilio_double.state.activities
    sid = next(a["sid"] for a in activity.values() if a["friendly_name"] == "Offline")
    url = (
        twilio_double.product_url("taskrouter.twilio.com")
        + f"/v1/Workspaces/{workspace.sid}/Activities/{sid}"
    )

    response = requests.post(
        url,
        data={"Available": "true"},
        auth=(twilio_double.account_sid, twilio_double.auth_token),
        timeout=5,
    )

    assert response.status_code == 200
    assert response.json()["available"] is False
    [violation] = twilio_double.take_violations()
    assert "parameter 'Available' is not in the spec" in str(violation)


def test_activity_in_use_cannot_be_deleted(twilio_client, workspace) -> None:
    ws = twilio_client.taskrouter.v1.workspaces(workspace.sid)
    spare = ws.activities.create(friendly_name="Spare")

    with pytest.raises(TwilioRestException):
        ws.activities(workspace.default_activity_sid).delete()
    assert ws.activities(spare.sid).delete() is True


def test_configuration_must_be_json(twilio_client, workspace) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.taskrouter.v1.workspaces(workspace.sid).workflows.create(
            friendly_name="w", configuration="{nope"
        )

    assert (raised.value.status, raised.value.code) == (400, 20001)


def test_crud_round_trip_and_cascade(twilio_double: TwilioDouble, twilio_client, workspace) -> None:
    ws = twilio_client.taskrouter.v1.workspaces(workspace.sid)
    queue = ws.task_queues.create(friendly_name="sales")
    ws.task_queues(queue.sid).update(friendly_name="Sales", task_order="LIFO")
    channel = ws.task_channels.create(friendly_name="Chat", unique_name="chat")

    assert ws.task_queues(queue.sid).fetch().task_order == "LIFO"
    assert [q.friendly_name for q in ws.task_queues.list(friendly_name="Sales")] == ["Sales"]
    assert ws.task_channels(channel.sid).delete() is True
    assert ws.delete() is True
    assert not twilio_double.state.task_queues and not twilio_double.state.activities
    assert twilio_client.taskrouter.v1.workspaces.list() == []
