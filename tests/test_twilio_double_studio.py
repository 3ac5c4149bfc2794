"""The Twilio double's Studio v2 Flows, driven through the official twilio library."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.twilio_double import TwilioDouble

DEFINITION: dict[str, Any] = {
    "description": "failover sales",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "properties": {},
            "transitions": [
                {"event": "incomingCall", "next": "greeting"},
                {"event": "incomingMessage"},
            ],
        },
        {
            "name": "greeting",
            "type": "say-play",
            "properties": {"say": "Please leave a message."},
            "transitions": [{"event": "audioComplete", "next": "vm"}],
        },
        {
            "name": "vm",
            "type": "record-voicemail",
            "properties": {"max_length": 120},
            "transitions": [
                {"event": "recordingComplete"},
                {"event": "noAudio", "next": ""},
                {"event": "hangup"},
            ],
        },
    ],
}


def changed(**top: Any) -> dict[str, Any]:
    return {**copy.deepcopy(DEFINITION), **top}


def test_validate_create_update_and_revisions(twilio_double: TwilioDouble, twilio_client) -> None:
    studio = twilio_client.studio.v2

    assert studio.flow_validate.update(
        friendly_name="failover-sales", status="published", definition=DEFINITION
    ).valid
    flow = studio.flows.create(
        friendly_name="failover-sales",
        status="published",
        definition=DEFINITION,
        commit_message="v1",
    )
    updated = studio.flows(flow.sid).update(
        status="published", definition=changed(description="v2"), commit_message="v2"
    )

    assert (flow.revision, updated.revision) == (1, 2)
    assert (
        flow.webhook_url
        == f"https://webhooks.twilio.com/v1/Accounts/{twilio_double.account_sid}/Flows/{flow.sid}"
    )
    assert studio.flows(flow.sid).fetch().definition["description"] == "v2"
    assert studio.flows(flow.sid).revisions("1").fetch().definition == DEFINITION
    assert [r.revision for r in studio.flows(flow.sid).revisions.list()] == [2, 1]
    assert twilio_double.writes() == {"Flow.validate": 1, "Flow.create": 1, "Flow.update": 1}


def test_update_without_change_keeps_the_revision(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    flows = twilio_client.studio.v2.flows
    sid = flows.create(friendly_name="f", status="published", definition=DEFINITION).sid

    again = flows(sid).update(status="published", definition=DEFINITION, friendly_name="renamed")

    assert (again.revision, again.friendly_name) == (1, "renamed")
    assert len(twilio_double.state.flow_revisions[sid]) == 1


def test_latest_published_skips_drafts(twilio_double: TwilioDouble, twilio_client) -> None:
    flows = twilio_client.studio.v2.flows
    sid = flows.create(friendly_name="f", status="published", definition=DEFINITION).sid
    flows(sid).update(status="draft", definition=changed(description="draft"))

    assert flows(sid).revisions("LatestPublished").fetch().revision == 1
    assert flows(sid).revisions("LatestRevision").fetch().revision == 2
    with pytest.raises(TwilioRestException) as raised:
        flows(sid).revisions("7").fetch()
    assert raised.value.status == 404


def test_list_has_null_definitions_and_absolute_next_links(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    flows = twilio_client.studio.v2.flows
    for index in range(3):
        flows.create(friendly_name=f"f{index}", status="draft", definition=DEFINITION)

    listed = flows.list(page_size=2)

    assert [f.friendly_name for f in listed] == ["f0", "f1", "f2"]
    assert {f.definition for f in listed} == {None}
    first_page = twilio_double.requests[-2].response_body
    assert first_page["meta"]["next_page_url"].startswith(
        f"{twilio_double.base_url}/studio.twilio.com/v2/Flows?"
    )
    assert first_page["meta"]["key"] == "flows"


@pytest.mark.parametrize(
    ("definition", "path"),
    [
        (changed(initial_state="Nope"), "#/initial_state"),
        (changed(states=[]), "#/states"),
        (changed(flags={"allow_concurrent_calls": "yes"}), "#/flags"),
        (
            {**DEFINITION, "states": [*DEFINITION["states"], DEFINITION["states"][1]]},
            "#/states/3/name",
        ),
    ],
)
def test_invalid_definitions_answer_81022_with_details(
    twilio_double: TwilioDouble, twilio_client, definition: dict[str, Any], path: str
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.studio.v2.flow_validate.update(
            friendly_name="f", status="draft", definition=definition
        )

    assert (raised.value.status, raised.value.code) == (400, 81022)
    assert path in [error["property_path"] for error in raised.value.details["errors"]]


def test_dangling_transition_is_refused_on_create(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    broken = copy.deepcopy(DEFINITION)
    broken["states"][1]["transitions"][0]["next"] = "missing"

    with pytest.raises(TwilioRestException) as raised:
        twilio_client.studio.v2.flows.create(
            friendly_name="f", status="published", definition=broken
        )

    assert raised.value.details["errors"][0]["property_path"] == "#/states/1/transitions/0/next"
    assert not twilio_double.state.flows


def test_create_without_definition_is_refused_and_recorded(twilio_double: TwilioDouble) -> None:
    response = requests.post(
        twilio_double.product_url("studio.twilio.com") + "/v2/Flows",
        data={"FriendlyName": "f", "Status": "published"},
        auth=(twilio_double.account_sid, twilio_double.auth_token),
        timeout=5,
    )

    body = response.json()
    assert (response.status_code, body["code"], body["status"]) == (400, 20001, 400)
    assert body["message"] == "Missing required parameter Definition in the post body"
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20001"
    [violation] = twilio_double.take_violations()
    assert "'Definition' is a required property" in str(violation)
    assert not twilio_double.state.flows


def test_delete_removes_the_flow(twilio_double: TwilioDouble, twilio_client) -> None:
    flows = twilio_client.studio.v2.flows
    sid = flows.create(friendly_name="f", status="draft", definition=DEFINITION).sid

    assert flows(sid).delete() is True
    assert flows.list() == []
