"""Studio flows: valid graphs, answered calls never reach voicemail, alerts never block.

No stack deploys a flow any more: alerts left the caller's path (``failover status --notify``,
tests/test_outage.py), so every failover is a static document (tests/test_render_twiml.py,
tests/test_render_entry.py). Stacks that had ``alerts.webhook`` keep the flows rendered here
live until their next ``pulumi up`` moves their numbers off them, so the renderer stays checked
with the rule it was deployed under (a flow per line when alerts are on: ``legacy_rule``)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.model import Severity
from infra.naming import ALERT_PATH, DEFAULT_VOICEMAIL_PATH, SHARED_ENV
from infra.render import studio
from infra.render.artifacts import canonical_json, render_assets
from infra.render.bindings import Bindings, find_placeholders
from infra.render.studio import flow_specs, render_flow, render_flows
from tests.harness.golden import (
    AGENTS,
    config,
    every_kind_config,
    forward_line,
    forward_queue_line,
    queue_line,
    voicemail_line,
)

Flow = dict[str, Any]


@pytest.fixture(autouse=True)
def legacy_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry rule these flows were deployed under: with alerts, every line had a flow."""
    monkeypatch.setattr(studio, "needs_flow", lambda line, severity, *, alerts: alerts)


ALERTS = "https://hooks.acme.example/failover"
# The voicemail documents in the ``shared`` environment: ``/v/default.xml`` for
# ``defaults.voicemail``, else content-addressed (``infra.routing.line_paths``).
VOICEMAIL_URL = re.compile(r"https://[^/]+/v/(?:default|[0-9a-f]{12})\.xml")

# Widget type → (allowed properties, allowed transition events), after twilio.md §4.3.
WIDGETS: dict[str, tuple[set[str], set[str]]] = {
    "trigger": (
        {"offset"},
        {"incomingCall", "incomingMessage", "incomingRequest", "incomingParent"},
    ),
    "connect-call-to": (
        {"offset", "noun", "to", "caller_id", "timeout", "record", "time_limit"},
        {"callCompleted", "hangup"},
    ),
    "enqueue-call": (
        {"offset", "workflow_sid", "task_attributes", "priority", "timeout"}
        | {"wait_url", "wait_url_method"},
        {"callComplete", "failedToEnqueue", "callFailure"},
    ),
    "add-twiml-redirect": ({"offset", "url", "method", "timeout"}, {"return", "timeout", "fail"}),
    "split-based-on": ({"offset", "input"}, {"noMatch", "match"}),
    "run-function": (
        {"offset", "url", "parameters", "service_sid", "environment_sid", "function_sid"},
        {"success", "fail"},
    ),
}


def states_by_name(flow: Flow) -> dict[str, dict[str, Any]]:
    return {state["name"]: state for state in flow["states"]}


def check_flow(flow: Flow) -> list[str]:
    """Every structural problem of a definition (empty when fine)."""
    problems: list[str] = []
    unknown_keys = set(flow) - {"description", "states", "initial_state", "flags"}
    if unknown_keys:
        problems.append(f"unknown top-level keys {sorted(unknown_keys)}")
    if flow.get("flags", {}).get("allow_concurrent_calls") is not True:
        problems.append("flags.allow_concurrent_calls is not true")
    names = [state["name"] for state in flow["states"]]
    if len(names) != len(set(names)):
        problems.append(f"duplicate state names in {names}")
    states = states_by_name(flow)
    initial = states.get(flow["initial_state"])
    if initial is None or initial["type"] != "trigger":
        problems.append(f"initial_state {flow['initial_state']!r} is not a trigger state")
    for state in flow["states"]:
        if state["type"] not in WIDGETS:
            problems.append(f"{state['name']}: unknown widget type {state['type']!r}")
            continue
        properties, events = WIDGETS[state["type"]]
        unknown = set(state["properties"]) - properties
        if unknown:
            problems.append(f"{state['name']}: unknown properties {sorted(unknown)}")
        for transition in state["transitions"]:
            if transition["event"] not in events:
                problems.append(f"{state['name']}: unknown event {transition['event']!r}")
            if transition.get("next") and transition["next"] not in states:
                problems.append(f"{state['name']}: next {transition['next']!r} does not exist")
    unreachable = set(names) - reachable(flow, flow["initial_state"])
    if unreachable:
        problems.append(f"unreachable states {sorted(unreachable)}")
    return problems


def reachable(flow: Flow, start: str | None) -> set[str]:
    """Names of the states reachable from ``start`` (included) along any transition."""
    states = states_by_name(flow)
    seen: set[str] = set()
    todo = [start] if start else []
    while todo:
        name = todo.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        todo.extend(t["next"] for t in states[name]["transitions"] if t.get("next"))
    return seen


def _holds(condition: dict[str, Any], value: str) -> bool:
    if condition["type"] == "equal_to":
        return bool(value == condition["value"])
    if condition["type"] == "matches_any_of":
        return value in [part.strip() for part in condition["value"].split(",")]
    raise AssertionError(f"test does not evaluate condition type {condition['type']!r}")


def follow(flow: Flow, state_name: str, event: str, value: str) -> str | None:
    """Next state after ``state_name`` fires ``event`` and its result variable is ``value``.

    Passes through a split right after the widget, evaluating its conditions on ``value``.
    """
    states = states_by_name(flow)
    (transition,) = [t for t in states[state_name]["transitions"] if t["event"] == event]
    nxt = transition.get("next")
    if nxt is None or states[nxt]["type"] != "split-based-on":
        return nxt
    split = states[nxt]
    assert f"widgets.{state_name}." in split["properties"]["input"]
    for candidate in split["transitions"]:
        if candidate["event"] == "match" and all(_holds(c, value) for c in candidate["conditions"]):
            return candidate.get("next")
    (no_match,) = [t for t in split["transitions"] if t["event"] == "noMatch"]
    return no_match.get("next")


def voicemail_states(flow: Flow) -> set[str]:
    return {
        state["name"]
        for state in flow["states"]
        if state["type"] == "add-twiml-redirect"
        and VOICEMAIL_URL.fullmatch(state["properties"]["url"])
    }


def reaches_voicemail(flow: Flow, start: str | None) -> bool:
    return bool(reachable(flow, start) & voicemail_states(flow))


def all_flows() -> dict[str, Flow]:
    """Every flow deployed for a config with every kind of line (alerts on: else none)."""
    return render_flows(every_kind_config(ALERTS))


def widgets_of(flow: Flow, kind: str) -> list[dict[str, Any]]:
    return [state for state in flow["states"] if state["type"] == kind]


def test_every_flow_is_a_valid_graph() -> None:
    flows = all_flows()
    # with alerts every line enters through a flow, and queued lines have a second one
    cfg = every_kind_config(ALERTS)
    assert len(flows) == len(cfg.lines) + len(cfg.queued_lines) == 10
    problems = {name: check_flow(flow) for name, flow in flows.items()}
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("status", ["completed", "answered", "canceled", "in-progress"])
def test_an_answered_or_abandoned_forward_never_reaches_voicemail(status: str) -> None:
    checked = 0
    for flow in all_flows().values():
        for forward in widgets_of(flow, "connect-call-to"):
            assert not reaches_voicemail(
                flow, follow(flow, forward["name"], "callCompleted", status)
            )
            assert not reaches_voicemail(flow, follow(flow, forward["name"], "hangup", status))
            checked += 1
    assert checked >= 4  # sales, gus, main, eli


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_an_unanswered_forward_goes_to_voicemail(status: str) -> None:
    checked = 0
    for flow in all_flows().values():
        for forward in widgets_of(flow, "connect-call-to"):
            nxt = follow(flow, forward["name"], "callCompleted", status)
            assert nxt in voicemail_states(flow)
            checked += 1
    assert checked >= 4  # sales, gus, main, eli


@pytest.mark.parametrize("result", ["bridged", "bridging-in-process", "hangup", "redirected"])
def test_a_queued_call_that_reached_an_agent_never_reaches_voicemail(result: str) -> None:
    checked = 0
    for flow in all_flows().values():
        for queue in widgets_of(flow, "enqueue-call"):
            assert not reaches_voicemail(flow, follow(flow, queue["name"], "callComplete", result))
            checked += 1
    assert checked >= 2  # support.queue, main.queue


@pytest.mark.parametrize(
    ("event", "result"),
    [
        ("callComplete", "leave"),
        ("callComplete", "error"),
        ("callComplete", "system-error"),
        ("failedToEnqueue", "queue-full"),
        ("callFailure", "system-error"),
    ],
)
def test_a_caller_who_left_the_queue_unserved_goes_to_voicemail(event: str, result: str) -> None:
    checked = 0
    for flow in all_flows().values():
        for queue in widgets_of(flow, "enqueue-call"):
            assert follow(flow, queue["name"], event, result) in voicemail_states(flow)
            checked += 1
    assert checked >= 2  # support.queue, main.queue


def test_forward_rings_the_failover_number_for_its_timeout() -> None:
    line = forward_line()
    flow = render_flow(line, Severity.MINOR, alerts=True)
    (forward,) = widgets_of(flow, "connect-call-to")
    assert forward["properties"]["to"] == line.forward
    assert forward["properties"]["timeout"] == line.forward_timeout_s == 25
    assert forward["properties"]["noun"] == "number"


def test_enqueue_names_the_line_and_holds_with_the_bounded_document() -> None:
    line = queue_line()
    bindings = Bindings(domain_name="acme-1234-prod.twil.io", workflow_sid="WW" + "a" * 32)
    flow = render_flow(line, Severity.SEVERE, alerts=True, bindings=bindings)
    (queue,) = widgets_of(flow, "enqueue-call")
    properties = queue["properties"]
    assert properties["workflow_sid"] == "WW" + "a" * 32
    assert json.loads(properties["task_attributes"])["line"] == line.id
    assert len(properties["task_attributes"]) <= 1024
    assert properties["timeout"] == 150  # task TTL = the queue timeout
    assert properties["wait_url"] == f"https://acme-1234-prod.twil.io/queue-wait?line={line.id}"
    assert properties["wait_url_method"] == "GET"


def test_voicemail_is_the_shared_document_fetched_with_get() -> None:
    # The flow redirects to the same shared voicemail document the static entries use, so a
    # greeting lives in one place: the default voicemail at its stable path, an override
    # content-addressed.
    cfg = config(forward_line(), voicemail_line(), alerts=ALERTS)
    bindings = Bindings(domain_name="acme-1234-prod-shared.twil.io")
    flows = render_flows(cfg, bindings)
    voicemails = {}
    for name, flow in flows.items():
        (state,) = voicemail_states(flow)
        properties = states_by_name(flow)[state]["properties"]
        assert properties["method"] == "GET"
        voicemails[name] = properties["url"]
    assert voicemails == {
        "acme-failover-sales": "https://acme-1234-prod-shared.twil.io/v/1fcd8214199c.xml",
        "acme-failover-fay": "https://acme-1234-prod-shared.twil.io" + DEFAULT_VOICEMAIL_PATH,
    }


def test_every_document_a_flow_redirects_to_is_rendered_in_shared() -> None:
    cfg = every_kind_config(ALERTS)
    domain = "acme-1234-prod-shared.twil.io"
    shared = render_assets(cfg)[SHARED_ENV]
    checked = 0
    for name, flow in render_flows(cfg, Bindings(domain_name=domain)).items():
        for redirect in widgets_of(flow, "add-twiml-redirect"):
            url = redirect["properties"]["url"]
            if redirect["properties"]["method"] == "POST":  # a secondary server (failover.url)
                assert not url.startswith(f"https://{domain}/"), name
                continue
            assert url.startswith(f"https://{domain}/"), name
            assert url.removeprefix(f"https://{domain}") in shared, (name, url)
            checked += 1
    assert checked >= len(cfg.lines) + len(cfg.queued_lines) - 1  # all but billing (url)


def test_the_alert_runs_first_and_both_outcomes_continue() -> None:
    flow = render_flow(voicemail_line(), Severity.MINOR, alerts=True)
    states = states_by_name(flow)
    (trigger_next,) = [t["next"] for t in states["Trigger"]["transitions"] if t.get("next")]
    alert = states[trigger_next]
    assert alert["type"] == "run-function"
    assert alert["properties"]["url"].endswith(ALERT_PATH)
    targets = {t["event"]: t["next"] for t in alert["transitions"]}
    assert targets["success"] == targets["fail"] in voicemail_states(flow)
    keys = {p["key"] for p in alert["properties"]["parameters"]}
    assert keys == {"line", "number", "caller", "call_sid", "error_code", "error_url"}


def test_without_alerts_no_call_passes_a_flow_or_an_alert_step() -> None:
    # Studio takes 100 new executions/s per account; without alerts there is no reason to
    # put a flow in the caller's path, so none is deployed (the entries are static documents).
    assert render_flows(every_kind_config(alerts=None)) == {}
    # A flow rendered without alerts (not deployed today) has no alert step either.
    flow = render_flow(forward_queue_line(), Severity.SEVERE, alerts=False)
    assert not widgets_of(flow, "run-function")


def test_queue_lines_get_a_standard_and_a_queue_flow() -> None:
    # With alerts every line enters through a flow; a line with a queue has a second flow for
    # severe outages, deployed up front so switching severity only re-points numbers.
    lines = (forward_queue_line(), queue_line(), voicemail_line())
    specs = flow_specs(config(*lines, agents=AGENTS, alerts=ALERTS))
    assert [(spec.key, spec.name, spec.severity) for spec in specs] == [
        ("main", "acme-failover-main", Severity.MINOR),
        ("main.queue", "acme-failover-main.queue", Severity.SEVERE),
        ("support", "acme-failover-support", Severity.MINOR),
        ("support.queue", "acme-failover-support.queue", Severity.SEVERE),
        ("fay", "acme-failover-fay", Severity.MINOR),
    ]
    assert flow_specs(config(*lines, agents=AGENTS)) == ()


def test_placeholders_mark_every_deploy_time_value_until_bound() -> None:
    line = forward_queue_line()
    placeholder_text = canonical_json(render_flow(line, Severity.SEVERE, alerts=True))
    assert find_placeholders(placeholder_text) == [
        "${serverless.domain_name}",
        "${taskrouter.on_duty_activity_sid}",
        "${taskrouter.workflow_sid}",
    ]
    bindings = Bindings(
        domain_name="acme-1234-prod.twil.io",
        workflow_sid="WW" + "b" * 32,
        on_duty_activity_sid="WA" + "c" * 32,
    )
    bound = canonical_json(render_flow(line, Severity.SEVERE, alerts=True, bindings=bindings))
    assert find_placeholders(bound) == []


def test_rendering_twice_gives_the_same_bytes() -> None:
    first = {
        name: canonical_json(flow) for name, flow in render_flows(every_kind_config(ALERTS)).items()
    }
    again = {
        name: canonical_json(flow) for name, flow in render_flows(every_kind_config(ALERTS)).items()
    }
    assert first == again


def test_the_checker_reports_a_dangling_next_and_missing_flag() -> None:
    flow = render_flow(voicemail_line(), Severity.MINOR, alerts=False)
    flow["flags"] = {}
    flow["states"][0]["transitions"][0]["next"] = "nowhere"
    assert check_flow(flow) == [
        "flags.allow_concurrent_calls is not true",
        "Trigger: next 'nowhere' does not exist",
        "unreachable states ['voicemail']",
    ]


def test_a_confirmed_forward_hands_the_caller_to_its_forwarding_document() -> None:
    """Connect Call To has no whisper URL, so with ``failover.confirm`` the flow redirects
    (GET) to the line's forwarding document, which rings with the confirm whisper and goes
    on to the voicemail itself: the flow has no Connect Call To and no voicemail step."""
    import dataclasses

    line = dataclasses.replace(forward_line(), forward_confirm=True)
    bindings = Bindings(domain_name="svc-1-shared.twil.io", forward_domain="svc-1-fwd-07.twil.io")
    flow = render_flow(line, Severity.MINOR, alerts=True, bindings=bindings)
    kinds = [state["type"] for state in flow["states"]]
    assert kinds == ["trigger", "run-function", "add-twiml-redirect"]
    redirect = flow["states"][-1]["properties"]
    assert redirect["url"] == f"https://svc-1-fwd-07.twil.io/f/{line.id}.xml"
    assert redirect["method"] == "GET"
    placeholder = render_flow(line, Severity.MINOR, alerts=True)
    assert "${serverless.forward_domain}" in json.dumps(placeholder)
