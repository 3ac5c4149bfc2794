"""Multi-run scenarios for the whole provider set, through the engine model (engine.py).

Each run is a fresh provider host, as with the Pulumi CLI. The stack: one TwimlDocuments,
one CallQueue (its assignment callback is a documents URL), one StudioFlow, and two
protected numbers (one falls back to the flow, one to a TwiML document).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from infra.providers.call_queue import CallQueueProvider
from infra.providers.phone_number import PhoneNumberFailoverProvider
from infra.providers.studio_flow import StudioFlowProvider
from infra.providers.twiml_documents import TwimlDocumentsProvider
from tests.harness.engine import EngineError, MiniEngine, Registration
from tests.harness.host import ProviderHost, provider_string
from tests.harness.support import SECRET_KEYS, token_type, twilio_config
from tests.providers.test_call_queue import args as queue_args
from tests.providers.test_phone_number import PRIMARY
from tests.providers.test_studio_flow import args as flow_args
from tests.providers.test_studio_flow import edited
from tests.providers.test_twiml_documents import ASSIGN, VOICEMAIL
from tests.providers.test_twiml_documents import args as documents_args

SALES, SUPPORT = "+14155550101", "+14155550103"
SUPPORT_PRIMARY = "https://voice.acme.example/support"
Outputs = Mapping[str, Mapping[str, Any]]


def reg(cls: type, type_name: str, name: str, inputs: Any, **options: Any) -> Registration:
    provider = provider_string(cls())
    if callable(inputs):
        return Registration(
            token_type(type_name), name, lambda o: {"__provider": provider, **inputs(o)}, **options
        )
    return Registration(token_type(type_name), name, {"__provider": provider, **inputs}, **options)


def url(outputs: Mapping[str, Any], path: str) -> Any:
    urls = outputs["urls"]
    return urls[path] if isinstance(urls, dict) else urls  # UNKNOWN in a preview


def stack(protect: bool = True, flow: dict[str, Any] | None = None) -> list[Registration]:
    return [
        reg(TwimlDocumentsProvider, "TwimlDocuments", "documents", documents_args()),
        reg(
            CallQueueProvider,
            "CallQueue",
            "call-queue",
            lambda o: queue_args(assignment_callback_url=url(o["documents"], ASSIGN)),
        ),
        reg(StudioFlowProvider, "StudioFlow", "sales-flow", flow_args(flow)),
        reg(
            PhoneNumberFailoverProvider,
            "PhoneNumberFailover",
            "sales",
            lambda o: {
                "line": "sales",
                "phone_number": SALES,
                "fallback_url": o["sales-flow"]["webhook_url"],
            },
            protect=protect,
        ),
        reg(
            PhoneNumberFailoverProvider,
            "PhoneNumberFailover",
            "support",
            lambda o: {
                "line": "support",
                "phone_number": SUPPORT,
                "fallback_method": "GET",
                "fallback_url": url(o["documents"], VOICEMAIL),
            },
            protect=protect,
        ),
    ]


def seed(double: Any) -> None:
    double.seed_number(SALES, voice_url=PRIMARY)
    double.seed_number(SUPPORT, voice_url=SUPPORT_PRIMARY, voice_fallback_url="https://old.ex/fb")


def number(double: Any, e164: str) -> dict[str, Any]:
    return next(n for n in double.state.numbers.values() if n["phone_number"] == e164)


def kinds(ops: list[tuple[str, str]]) -> list[str]:
    return [op for op, _ in ops]


def engine_for(double: Any, **options: Any) -> MiniEngine:
    return MiniEngine(twilio_config(double), SECRET_KEYS, **options)


def test_up_same_refresh_repair_change_and_destroy(double: Any) -> None:
    seed(double)
    engine = engine_for(double)
    assert kinds(engine.preview(stack(), {})) == ["create"] * 5
    assert double.writes() == {}
    state, ops = engine.up(stack(), {})
    assert kinds(ops) == ["create"] * 5
    assert number(double, SUPPORT)["voice_fallback_url"].endswith(VOICEMAIL)

    seen = len(double.requests)
    state, ops = engine.up(stack(), state)
    assert kinds(ops) == ["same"] * 5 and double.requests[seen:] == []  # not one API call

    state, ops = engine.refresh(state)
    assert kinds(ops) == ["refresh-same"] * 5  # read() reproduces what create stored
    double.edit_number(SUPPORT, voice_fallback_url="https://console.example/oops")
    state, ops = engine.refresh(state)
    assert kinds(ops) == ["refresh-same"] * 4 + ["refresh-changed"]
    before = double.writes()
    state, ops = engine.up(stack(), state)
    assert kinds(ops) == ["same"] * 4 + ["update"]
    assert double.writes() - before == {"IncomingPhoneNumber.update": 1}
    assert number(double, SUPPORT)["voice_fallback_url"].endswith(VOICEMAIL)

    state, ops = engine.up(stack(flow=edited(timeout=40)), state)
    assert kinds(ops) == ["same", "same", "update", "same", "same"]

    with pytest.raises(EngineError, match="protected"):
        engine.destroy(state)
    state, _ = engine.up(stack(protect=False, flow=edited(timeout=40)), state)
    state, ops = engine.destroy(state)
    assert kinds(ops) == ["delete"] * 5 and state == {}
    assert (
        number(double, SALES)["voice_fallback_url"],
        number(double, SUPPORT)["voice_fallback_url"],
    ) == ("", "https://old.ex/fb")  # restored, not released
    assert not (double.state.flows or double.state.services or double.state.workspaces)
    assert len(double.state.numbers) == 2 and double.deletes_of_numbers() == []


@pytest.mark.parametrize("nth", [4, 19])
def test_an_interrupted_up_converges_on_rerun_without_duplicates(double: Any, nth: int) -> None:
    seed(double)
    engine = engine_for(double)
    double.faults.add(fail_nth_write=nth, applied=True, reset=True)
    with pytest.raises(EngineError) as info:
        engine.up(stack(), {})
    done = len(info.value.state)  # resources completed before the failure are kept
    state, ops = engine.up(stack(), info.value.state)
    assert kinds(ops) == ["same"] * done + ["create"] * (5 - done)
    state, ops = engine.up(stack(), state)
    assert kinds(ops) == ["same"] * 5
    s = double.state
    counts = [len(s.services), len(s.environments), len(s.workspaces), len(s.flows)]
    assert counts == [1, 1, 1, 1] and len(s.workers) == 2 and len(s.task_queues) == 2


def test_killing_the_host_between_two_writes_then_rerunning_converges(double: Any) -> None:
    seed(double)
    hosts: list[ProviderHost] = []

    def start() -> ProviderHost:
        hosts.append(ProviderHost())
        return hosts[-1]

    engine = engine_for(double, host_factory=start)
    hang = double.faults.add(fail_nth_write=14, applied=True, hang=5.0)  # inside CallQueue

    def kill_when_hanging() -> None:
        deadline = time.monotonic() + 20
        while not hang.fired and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        hosts[-1].proc.kill()  # the CLI process dies mid-run

    killer = threading.Thread(target=kill_when_hanging)
    killer.start()
    with pytest.raises(EngineError) as info:
        engine.up(stack(), {})
    killer.join()
    assert [u.rsplit("::", 1)[-1] for u in info.value.state] == ["documents"]
    state, ops = engine.up(stack(), info.value.state)
    assert kinds(ops) == ["same"] + ["create"] * 4
    s = double.state
    assert len(s.workspaces) == 1 and len(s.workers) == 2 and len(s.workflows) == 1
    names = [a["friendly_name"] for a in s.activities.values()]
    assert names.count("On Duty") == 1 and names.count("Off Duty") == 1


def test_protected_number_cannot_be_replaced_and_a_retained_one_is_left_alone(double: Any) -> None:
    seed(double)
    engine = engine_for(double)

    def line(e164: str, **options: Any) -> list[Registration]:
        inputs = {"line": "sales", "phone_number": e164, "fallback_url": "https://f.example/x"}
        return [reg(PhoneNumberFailoverProvider, "PhoneNumberFailover", "sales", inputs, **options)]

    state, _ = engine.up(line(SALES, protect=True), {})
    with pytest.raises(EngineError, match="marked for protection"):
        engine.up(line(SUPPORT, protect=True), state)
    state, ops = engine.up(line(SUPPORT, retain_on_delete=True), state)
    assert kinds(ops) == ["replace"]  # adopt the new number, restore the old one
    assert number(double, SALES)["voice_fallback_url"] == ""
    assert number(double, SUPPORT)["voice_fallback_url"] == "https://f.example/x"
    state, ops = engine.destroy(state)
    assert kinds(ops) == ["delete(retained)"]  # no Delete call: nothing restored either
    assert number(double, SUPPORT)["voice_fallback_url"] == "https://f.example/x"
