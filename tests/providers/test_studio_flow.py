"""StudioFlow through Pulumi's real provider host, against the Twilio double."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra.providers.studio_flow import StudioFlowProvider, definition_hash
from tests.harness.host import UNKNOWN, HostError, ProviderHost
from tests.harness.support import Driven

NAME = "acme-dev-failover-sales"
FLOW: dict[str, Any] = {
    "description": "failover sales: forward then voicemail",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "properties": {"offset": {"x": 0, "y": 0}},
            "transitions": [
                {"event": "incomingCall", "next": "fwd"},
                {"event": "incomingMessage"},
                {"event": "incomingRequest"},
                {"event": "incomingParent"},
            ],
        },
        {
            "name": "fwd",
            "type": "connect-call-to",
            "properties": {
                "noun": "number",
                "to": "+14155550188",
                "timeout": 20,
                "caller_id": "{{contact.channel.address}}",
                "offset": {"x": 0, "y": 200},
            },
            "transitions": [{"event": "callCompleted", "next": "vm"}, {"event": "hangup"}],
        },
        {
            "name": "vm",
            "type": "record-voicemail",
            "properties": {"max_length": 120, "timeout": 5, "play_beep": "true"},
            "transitions": [
                {"event": "recordingComplete"},
                {"event": "noAudio"},
                {"event": "hangup"},
            ],
        },
    ],
}


def flow(host: ProviderHost) -> Driven:
    return Driven(host, StudioFlowProvider(), "StudioFlow", "sales-flow")


def args(definition: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    text = json.dumps(definition or FLOW, sort_keys=True)
    return {"line": "sales", "friendly_name": NAME, "definition": text, **overrides}


def edited(**properties: Any) -> dict[str, Any]:
    changed = copy.deepcopy(FLOW)
    changed["states"][1]["properties"].update(properties)
    return changed


def test_lifecycle_validates_publishes_ignores_layout_and_sees_console_edits(
    double: Any, host: ProviderHost
) -> None:
    res = flow(host)
    outs = res.create(args())
    record = double.state.flows[res.id]
    assert (record["status"], record["revision"]) == ("published", 1)
    digest = definition_hash(FLOW)
    assert outs["commit_message"] == f"sales: lines.yaml sha256:{digest[:12]}"
    assert outs["webhook_url"].endswith(f"/Flows/{res.id}")
    assert double.writes() == {"Flow.validate": 1, "Flow.create": 1}
    seen = len(double.requests)
    assert res.diff(args())["changes"] == "DIFF_NONE"

    moved = copy.deepcopy(FLOW)  # widgets moved, states and keys reordered: no update
    moved["states"].reverse()
    moved["states"][0]["properties"]["offset"] = {"x": 400, "y": -80}
    assert res.diff({**args(), "definition": json.dumps(moved)})["changes"] == "DIFF_NONE"

    changed = args(edited(timeout=25))
    assert res.diff(changed)["changes"] == "DIFF_SOME"
    assert len(double.requests) == seen  # diff is pure
    outs = res.update(changed)
    assert (outs["revision"], double.state.flows[res.id]["revision"]) == (2, 2)
    assert double.writes()["Flow.validate"] == 2 and double.writes()["Flow.update"] == 1

    with double._lock:  # someone edits the flow in the Studio console
        double.state.flows[res.id]["definition"] = edited(to="+14155550000")
        double.state.flows[res.id]["revision"] = 3
    outs = res.refresh()
    assert outs["revision"] == 3 and outs["definition_hash"] != outs["published_hash"]
    assert res.diff(changed)["changes"] == "DIFF_SOME"
    res.update(changed)
    assert double.state.flows[res.id]["definition"]["states"][1]["properties"]["to"] == (
        "+14155550188"
    )

    res.delete()
    assert double.state.flows == {}


def test_invalid_definition_fails_validation_with_property_paths(
    double: Any, host: ProviderHost
) -> None:
    broken = copy.deepcopy(FLOW)
    broken["states"][1]["transitions"][0]["next"] = "nowhere"
    with pytest.raises(HostError) as info:
        flow(host).create(args(broken))
    details = info.value.details
    assert "sales: validate Studio flow 'acme-dev-failover-sales' failed" in details
    assert "#/states/1/transitions/0/next" in details and "Twilio error 81022" in details
    assert "Flow.create" not in double.writes()


def test_check_rejects_malformed_definitions_and_keeps_unknowns(
    double: Any, host: ProviderHost
) -> None:
    res = flow(host)
    _, failures = res.check({"line": "sales", "friendly_name": NAME, "definition": "{nope"})
    assert [p for p, _ in failures] == ["definition"] and "must be JSON text" in failures[0][1]
    _, failures = res.check(
        {"line": "sales", "friendly_name": "x" * 65, "definition": json.dumps({"states": []})}
    )
    assert sorted(p for p, _ in failures) == ["definition", "friendly_name"]
    inputs, failures = res.check(args(definition=None) | {"definition": UNKNOWN})
    assert failures == [] and inputs["definition"] == UNKNOWN


def test_definition_given_as_an_object_round_trips_with_integers(
    double: Any, host: ProviderHost
) -> None:
    res = flow(host)
    outs = res.create({"line": "sales", "friendly_name": NAME, "definition": FLOW})
    assert outs["applied_hash"] == definition_hash(FLOW)
    timeout = double.state.flows[res.id]["definition"]["states"][1]["properties"]["timeout"]
    assert timeout == 20 and isinstance(timeout, int)  # not 20.0 after the engine's floats


def test_interrupted_create_adopts_the_flow_instead_of_duplicating(
    double: Any, host: ProviderHost
) -> None:
    double.faults.add(fail_nth_write=2, applied=True, reset=True)  # 1 = Validate, 2 = create
    res = flow(host)
    with pytest.raises(HostError, match="could not reach Twilio"):
        res.create(args())
    assert len(double.state.flows) == 1
    outs = res.create(args())
    assert list(double.state.flows) == [res.id] and outs["revision"] == 1
    assert double.writes()["Flow.create"] == 1 and "Flow.update" not in double.writes()


def test_two_flows_with_the_same_name_are_refused(double: Any, host: ProviderHost) -> None:
    client = double.client(timeout=5)
    for _ in range(2):
        client.studio.v2.flows.create(friendly_name=NAME, status="published", definition=FLOW)
    with pytest.raises(HostError, match="2 Studio flows are named 'acme-dev-failover-sales'"):
        flow(host).create(args())


def test_delete_is_refused_while_a_number_sends_calls_to_the_flow(
    double: Any, host: ProviderHost
) -> None:
    res = flow(host)
    outs = res.create(args())
    double.seed_number(
        "+14155550101",
        voice_url="https://voice.acme.example/sales",
        voice_fallback_url=outs["webhook_url"].replace("https://", "http://"),
    )
    with pytest.raises(HostError, match=r"refusing to delete Studio flow FW\w+: \+14155550101"):
        res.delete()
    double.edit_number("+14155550101", voice_fallback_url="")
    res.delete()
    assert double.state.flows == {}


def test_rate_limits_on_validate_and_create_are_retried(double: Any, host: ProviderHost) -> None:
    burst = double.faults.add(status=429, retry_after=0.05, times=4, match="POST studio.twilio.com")
    flow(host).create(args())
    assert burst.fired == 4 and double.writes()["Flow.create"] == 1


def test_update_of_a_flow_deleted_in_the_console_asks_for_refresh(
    double: Any, host: ProviderHost
) -> None:
    res = flow(host)
    res.create(args())
    with double._lock:
        del double.state.flows[res.id]
    with pytest.raises(HostError, match="no longer exists .* run `pulumi refresh`"):
        res.update(args(edited(timeout=30)))
    assert host.read(res.urn, res.id, res.outputs)[0] == ""
