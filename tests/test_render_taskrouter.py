"""TaskRouter configuration and the Function sources behind the call queues."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.model import DEFAULT_QUEUE_RING_S, MAX_QUEUE_RING_S, Severity
from infra.naming import ASSIGNMENT_PATH
from infra.render.bindings import Bindings, find_placeholders
from infra.render.functions import (
    ALERT_TIMEOUT_MS,
    WHISPER_GATHER_S,
    render_alert_function,
    render_assignment_function,
    render_functions,
)
from infra.render.studio import render_flow
from infra.render.taskrouter import (
    RESERVATION_TIMEOUT_S,
    render_taskrouter,
    workflow_configuration,
)
from tests.harness.golden import (
    AGENTS,
    config,
    every_kind_config,
    forward_line,
    forward_queue_line,
    queue_line,
)

ON_DUTY_SID = "WA" + "1" * 32
BINDINGS = Bindings(
    domain_name="acme-1234-prod.twil.io",
    workflow_sid="WW" + "2" * 32,
    on_duty_activity_sid=ON_DUTY_SID,
    queue_sids={"main": "WQ" + "3" * 32, "support": "WQ" + "4" * 32},
)
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for item in value for k in keys_anywhere(item)}
    return set()


def selects(expression: str, attributes: dict[str, Any]) -> bool:
    """Evaluate the only TargetWorkers form we render: ``<key> HAS "<value>"``."""
    key, operator, literal = expression.split(" ", 2)
    assert operator == "HAS", expression
    return json.loads(literal) in attributes.get(key, [])


def test_activities_are_on_duty_available_and_off_duty_not() -> None:
    documents = render_taskrouter(every_kind_config())
    assert documents["activities"] == [
        {"friendly_name": "On Duty", "available": True},
        {"friendly_name": "Off Duty", "available": False},
    ]


def test_one_queue_per_line_with_a_queue_selecting_exactly_its_agents() -> None:
    cfg = every_kind_config()
    documents = render_taskrouter(cfg)
    queues = {queue["friendly_name"]: queue for queue in documents["task_queues"]}
    assert list(queues) == ["support", "main"]
    workers = documents["workers"]
    for line in cfg.queued_lines:
        assert line.queue is not None
        selected = [
            worker["friendly_name"]
            for worker in workers
            if selects(queues[line.id]["target_workers"], worker["attributes"])
        ]
        assert selected == list(line.queue.agents)


def test_a_worker_per_agent_with_its_phone_as_contact_uri() -> None:
    workers = render_taskrouter(every_kind_config())["workers"]
    assert [worker["friendly_name"] for worker in workers] == [agent.id for agent in AGENTS]
    assert workers[2]["attributes"] == {
        "contact_uri": "+14155550113",
        "lines": ["main"],
        "name": "Carol Diaz",
    }


def test_workflow_routes_the_flow_task_attribute_to_its_line_queue() -> None:
    cfg = every_kind_config()
    workflow = render_taskrouter(cfg, BINDINGS)["workflow"]
    assert workflow["assignment_callback_url"] == "https://acme-1234-prod.twil.io" + ASSIGNMENT_PATH
    filters = workflow["configuration"]["task_routing"]["filters"]
    for line in cfg.queued_lines:
        flow = render_flow(line, Severity.SEVERE, alerts=False, bindings=BINDINGS)
        (enqueue,) = [s for s in flow["states"] if s["type"] == "enqueue-call"]
        attributes = json.loads(enqueue["properties"]["task_attributes"])
        matching = [
            f
            for f in filters
            if f["expression"] == f'queue == "{attributes["queue"]}"'  # the one form we render
        ]
        assert len(matching) == 1
        assert attributes["line"] == attributes["queue"] == line.id
        assert matching[0]["targets"] == [
            {"queue": BINDINGS.queue_sids[line.id], "timeout": line.queue.timeout_s}
        ]


def test_no_order_by_anywhere_default_is_longest_idle() -> None:
    documents = render_taskrouter(every_kind_config(), BINDINGS)
    assert "order_by" not in keys_anywhere(documents)


def test_queue_sids_are_placeholders_until_bound() -> None:
    unbound = json.dumps(workflow_configuration(every_kind_config()))
    assert find_placeholders(unbound) == [
        "${taskrouter.queue_sid.main}",
        "${taskrouter.queue_sid.support}",
    ]
    assert (
        find_placeholders(json.dumps(workflow_configuration(every_kind_config(), BINDINGS))) == []
    )


def test_nothing_is_rendered_without_a_queue() -> None:
    cfg = config(forward_line(), agents=AGENTS)
    assert render_taskrouter(cfg) == {}
    assert render_functions(cfg) == {}


def test_functions_rendered_only_when_needed() -> None:
    assert set(render_functions(config(queue_line(), agents=AGENTS))) == {
        "/agent-status",
        "/agent-whisper",
        "/agents",
        "/assignment",
        "/queue-wait",
    }
    # alerts are sent by `failover status --notify`, off the caller's path: no /alert Function
    assert render_functions(config(forward_line(), alerts="https://h.example/x")) == {}


def run_node(script: str, tmp_path: Path, source: str, name: str) -> Any:
    (tmp_path / name).write_text(source, encoding="utf-8")
    (tmp_path / "harness.js").write_text(script, encoding="utf-8")
    done = subprocess.run(
        [NODE or "node", "harness.js"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


ASSIGN_HARNESS = """
const fn = require('./assignment.js');
const worker = (phone) => JSON.stringify({contact_uri: phone, lines: ['support']});
const sids = {WorkspaceSid: 'WS1', TaskSid: 'WT1', ReservationSid: 'WR1', WorkerSid: 'WK1'};
const calls = [
  {...sids, TaskAttributes: JSON.stringify({line: 'support', caller: '+1555'}), WorkerAttributes: worker('+14155550111')},
  {...sids, TaskAttributes: JSON.stringify({line: 'nope'}), WorkerAttributes: worker('+14155550111')},
  {...sids, TaskAttributes: JSON.stringify({line: 'support'}), WorkerAttributes: worker('+19005550100')},
];
const out = [];
const context = {DOMAIN_NAME: 'svc-1234.twil.io'};
calls.forEach((event) => fn.handler(context, event, (err, result) => out.push(result)));
process.stdout.write(JSON.stringify(out));
"""


def test_assignment_function_calls_a_known_phone_with_a_ring_limit_and_a_whisper(
    tmp_path: Path,
) -> None:
    """Only an agent phone of lines.yaml is ever rung, from a line number, for the line's
    ``queue.ring`` (below the reservation timeout, with room for the whisper), with the
    whisper on the agent's leg (the reservation stays pending until the agent presses 1) and
    the agent leg's status callback."""
    cfg = config(queue_line(), forward_queue_line(), agents=AGENTS)
    source = render_assignment_function(cfg)
    assert find_placeholders(source) == []
    call, unknown_line, unknown_phone = run_node(ASSIGN_HARNESS, tmp_path, source, "assignment.js")
    assert call == {
        "instruction": "call",
        "to": "+14155550111",
        "from": queue_line().number,
        "url": "https://svc-1234.twil.io/agent-whisper"
        "?workspace=WS1&task=WT1&reservation=WR1&line=support&caller=%2B1555",
        "accept": False,
        "timeout": DEFAULT_QUEUE_RING_S,
        "status_callback_url": "https://svc-1234.twil.io/agent-status"
        "?workspace=WS1&task=WT1&reservation=WR1",
    }
    assert unknown_line == unknown_phone == {"instruction": "reject"}
    whisper_s = 6 + WHISPER_GATHER_S + 3  # the prompt, the key press, margin
    assert MAX_QUEUE_RING_S + whisper_s <= RESERVATION_TIMEOUT_S


STATUS_HARNESS = """
const sid = (p) => p + '0'.repeat(32);
const cases = [['accepted', 'completed'], ['pending', 'completed'], ['pending', 'no-answer'],
               ['canceled', 'completed'], [null, 'completed']];
const out = [];
(async () => {
  for (const [status, callStatus] of cases) {
    const posts = [];
    globalThis.fetch = async (url, options = {}) => {
      if ((options.method || 'GET') === 'GET') {
        if (status === null) { return new Response('', {status: 503}); }
        return new Response(JSON.stringify({reservation_status: status}), {status: 200});
      }
      posts.push(url.split('/Workspaces/')[1].replace(/[A-Z]{2}0{32}/g, '*') + ' ' + options.body);
      return new Response('{}', {status: 200});
    };
    const fn = require('./agent-status.js');
    const event = {workspace: sid('WS'), task: sid('WT'), reservation: sid('WR'), CallStatus: callStatus};
    await new Promise((done) => fn.handler({ACCOUNT_SID: 'AC', AUTH_TOKEN: 't'}, event, done));
    out.push(posts);
  }
  process.stdout.write(JSON.stringify(out));
})();
"""


def test_agent_status_completes_only_accepted_calls_and_rejects_the_rest(tmp_path: Path) -> None:
    """The agent leg is ``completed`` whenever the phone answered (their voicemail too), so
    the reservation's status decides; when it cannot be read both requests go, and TaskRouter
    refuses the one that does not apply."""
    source = render_functions(config(queue_line(), agents=AGENTS))["/agent-status"]
    complete = "*/Tasks/* AssignmentStatus=completed&Reason=agent+call+ended"
    reject = "*/Tasks/*/Reservations/* ReservationStatus=rejected"
    assert run_node(STATUS_HARNESS, tmp_path, source, "agent-status.js") == [
        [complete], [reject], [reject], [], [complete, reject],
    ]  # fmt: skip


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    delay_s = 0.0

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        time.sleep(type(self).delay_s)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def webhook() -> Iterator[type[_Hook]]:
    handler = type("Hook", (_Hook,), {"received": [], "delay_s": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/hook"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


ALERT_HARNESS = """
const fn = require('./alert.js');
const event = {line: 'sales', number: '+14155550101', caller: '+15550001', call_sid: 'CA1',
               error_code: '11200', error_url: 'https://voice.acme.example/sales'};
const started = Date.now();
fn.handler({}, event, (err, result) => {
  process.stdout.write(JSON.stringify({result: result, elapsed_ms: Date.now() - started}));
});
"""


@needs_node
def test_alert_function_posts_the_failover_to_the_webhook(
    tmp_path: Path, webhook: type[_Hook]
) -> None:
    source = render_alert_function(webhook.url)  # type: ignore[attr-defined]
    outcome = run_node(ALERT_HARNESS, tmp_path, source, "alert.js")
    assert outcome["result"] == {"delivered": True}
    (alert,) = webhook.received
    assert {k: v for k, v in alert.items() if k != "time"} == {
        "event": "failover",
        "line": "sales",
        "number": "+14155550101",
        "caller": "+15550001",
        "call_sid": "CA1",
        "error_code": "11200",
        "error_url": "https://voice.acme.example/sales",
    }
    assert alert["time"].endswith("Z")


@needs_node
def test_a_hanging_webhook_delays_the_caller_by_at_most_the_alert_timeout(
    tmp_path: Path, webhook: type[_Hook]
) -> None:
    webhook.delay_s = 5.0
    source = render_alert_function(webhook.url)  # type: ignore[attr-defined]
    outcome = run_node(ALERT_HARNESS, tmp_path, source, "alert.js")
    assert outcome["result"] == {"delivered": False}
    # Below the webhook's 5 s proves the abort; no tighter upper bound, as a busy machine can
    # start node late (timings are for bench/, not tests).
    assert ALERT_TIMEOUT_MS <= outcome["elapsed_ms"] < webhook.delay_s * 1000


def test_render_and_call_queue_provider_route_on_the_same_task_attribute() -> None:
    from infra.providers.call_queue import ROUTE_ATTRIBUTE
    from infra.render.taskrouter import TASK_QUEUE_ATTRIBUTE

    assert TASK_QUEUE_ATTRIBUTE == ROUTE_ATTRIBUTE
