"""Stacks deployed by an earlier release keep working: their pickled providers still load.

Each resource in a user's Pulumi state stores its provider as a dill pickle *by reference*
(module path + class name), recorded in ``tests/fixtures/state/``. This test applies the
shipped lines.yaml with today's code, swaps every stored ``__provider`` for the one the
earlier release recorded, and runs Read (``pulumi refresh``) and Delete (``pulumi destroy``)
through Pulumi's real provider host. Renaming or moving a provider module or class fails it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from infra.model import Severity
from infra.program import StackSettings
from infra.routing import EntryKind, fallback_entries
from tests.harness.legacy import alert_flow_rule
from tests.harness.program_engine import ProgramEngine
from tests.test_scenarios import lines, seed_account

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "state"


def _recorded() -> dict[str, str]:
    providers: dict[str, str] = {}
    for path in sorted(RECORDED.glob("provider-strings-*.json")):
        providers.update(json.loads(path.read_text())["providers"])
    return providers


NEW_SINCE_0_3 = {"DestroyGuard"}
"""Deployed since after 0.3: no earlier release stored a provider string for them."""
NOT_DEPLOYED_SINCE_0_3 = {"PhoneNumberFailover"}
"""Stored by 0.1/0.2 stacks, no longer declared by the program (``PhoneNumberBatch`` replaced it;
``failover migrate-state`` moves its state). Its stored provider must still load."""


def test_providers_no_longer_declared_still_load_from_their_stored_strings() -> None:
    import base64

    import dill  # type: ignore[import-untyped]

    from infra.providers.phone_number import PhoneNumberFailoverProvider

    recorded = _recorded()
    for name in NOT_DEPLOYED_SINCE_0_3:
        provider = dill.loads(base64.b64decode(recorded[name]))
        assert isinstance(provider, PhoneNumberFailoverProvider)


ALERTS = "https://hooks.acme.example/failover"


def test_state_from_an_earlier_release_refreshes_and_destroys(
    twilio_double: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = {k: v for k, v in _recorded().items() if k not in NOT_DEPLOYED_SINCE_0_3}
    # An earlier release's stack with alerts.webhook had a Studio flow per line: every stored
    # type is deployed.
    alert_flow_rule(monkeypatch)
    config = dataclasses.replace(lines(), alerts_webhook=ALERTS)
    seed_account(twilio_double, config)
    engine = ProgramEngine.for_double(twilio_double)
    state = engine.up(config, StackSettings(stack="dev", allow_destroy=True)).state

    swapped = set()
    for urn, res in state.items():
        type_name = urn.split("::")[2].rsplit(":", 1)[-1]
        if type_name in NEW_SINCE_0_3:
            continue
        assert type_name in recorded, f"{urn}: no provider recorded for {type_name}"
        res["inputs"]["__provider"] = recorded[type_name]
        res["outputs"]["__provider"] = recorded[type_name]
        swapped.add(type_name)
    assert swapped == set(recorded), f"types never deployed: {set(recorded) - swapped}"

    refreshed, ops = engine.engine.refresh(state)
    assert {op for op, _ in ops} == {"refresh-same"}, ops

    _, ops = engine.engine.destroy(refreshed)
    assert sorted(op for op, _ in ops) == ["delete"] * len(state)
    numbers = {n["phone_number"]: n for n in twilio_double.state.numbers.values()}
    for line in config.lines:
        assert numbers[line.number]["voice_fallback_url"] in ("", None), line.id
    assert not twilio_double.deletes_of_numbers()


def test_alert_flows_of_an_earlier_release_are_deleted_after_the_numbers_leave_them(
    twilio_double: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading a stack with alerts.webhook: the flows leave the program, the numbers move to
    the static documents, and only then are the flows deleted (Pulumi deletes what left the
    program at the end of the update; ``StudioFlow.delete`` refuses while a number points at
    the flow). The providers of the old flows load from state as stored."""
    d = twilio_double
    config = dataclasses.replace(lines(), alerts_webhook=ALERTS)
    seed_account(d, config)
    engine = ProgramEngine.for_double(d)
    with monkeypatch.context() as old:
        alert_flow_rule(old)
        before = engine.up(config, StackSettings(stack="dev")).state
    flows = {f["webhook_url"] for f in d.state.flows.values()}
    assert len(flows) == 11
    assert all(n["voice_fallback_url"] in flows for n in d.state.numbers.values())

    run = engine.up(config, StackSettings(stack="dev"), before)
    assert d.state.flows == {}
    kinds = [(op, urn.split("::")[2].rsplit(":", 1)[-1]) for op, urn in run.ops]
    flow_deletes = [i for i, (op, kind) in enumerate(kinds) if kind == "StudioFlow"]
    batch_updates = [i for i, (op, kind) in enumerate(kinds) if kind == "PhoneNumberBatch"]
    assert len(flow_deletes) == 11 and {kinds[i][0] for i in flow_deletes} == {"delete"}
    assert batch_updates and max(batch_updates) < min(flow_deletes)
    entries = fallback_entries(config, Severity.MINOR)
    numbers = {n["phone_number"]: n for n in d.state.numbers.values()}
    for line in config.lines:
        entry = entries[line.id]
        assert entry.kind in (EntryKind.DOCUMENT, EntryKind.URL), line.id
        live = numbers[line.number]
        assert live["voice_fallback_url"] not in flows, line.id
        assert live["voice_fallback_method"] == entry.method, line.id
        assert live["voice_fallback_url"].endswith(entry.ref), line.id
    assert not d.deletes_of_numbers()
