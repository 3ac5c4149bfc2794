"""Pulumi lifecycle scenarios (issue 16): renames, removal after a console edit, destroy.

The real program through the engine model and the real provider host, against the
contract-checked double (whose fixture fails a test that released a number), as in
``tests/test_scenarios.py``, whose helpers these reuse.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from infra.naming import number_batch
from tests.harness.engine import EngineError
from tests.harness.legacy import alert_flow_rule
from tests.test_scenarios import LEGACY, Stack, _without_line, edited, lines, number, seed_account

SALES = "+14155550101"
FAY = "+14155550107"
RENAMED = "  - id: sales-desk\n    renamed_from: [sales]\n"


@pytest.fixture
def stack(twilio_double: Any) -> Stack:
    seed_account(twilio_double, lines())
    return Stack(twilio_double)


def _batch_lines(stack: Stack, name: str) -> dict[str, Any]:
    (res,) = [r for urn, r in stack.state.items() if urn.endswith(f"::{name}")]
    return res["outputs"]["lines"]


def test_a_rename_with_renamed_from_updates_the_number_in_place_and_restores_nothing(
    stack: Stack,
) -> None:
    stack.up(lines())
    adopted = dict(_batch_lines(stack, number_batch("sales"))["sales"]["adopted"])
    assert number_batch("sales") != number_batch("sales-desk")  # the oldest id chooses

    run = stack.up(lines(edited("  - id: sales\n", RENAMED)))  # no allowRemovals needed

    assert [op for op in run.changed if op[1].startswith("numbers-")] == [
        ("update", number_batch("sales"))
    ]
    assert stack.writes["IncomingPhoneNumber.update"] <= 1  # at most one update, no restore
    record = _batch_lines(stack, number_batch("sales"))
    assert "sales" not in record
    assert record["sales-desk"]["adopted"] == adopted  # never re-adopted from our own URL
    live = number(stack.double, SALES)
    assert live["voice_fallback_url"] == run.outputs["lines"]["sales-desk"]
    assert live["voice_url"] == "https://voice.acme.example/sales"

    # Dropping renamed_from now would move the record to sales-desk's own batch: refused.
    with pytest.raises(EngineError, match="record is kept under its first id 'sales'"):
        stack.up(lines(edited("  - id: sales\n", "  - id: sales-desk\n")), allow_removals=True)
    assert sum(stack.writes.values()) == 0

    # Removing the renamed line later restores what was there before the tool, not our URL.
    stack.up(lines(_without_line("sales-desk", edited("  - id: sales\n", RENAMED))),
             allow_removals=True)  # fmt: skip
    live = number(stack.double, SALES)
    assert live["voice_fallback_url"] in (None, "")
    assert live["voice_url"] == LEGACY + "sales"
    assert stack.double.deletes_of_numbers() == []


def test_a_rename_without_renamed_from_is_a_removal_and_trips_the_brake(stack: Stack) -> None:
    stack.up(lines())
    with pytest.raises(EngineError, match=r"safety brake: 1 line.s. removed .sales.") as caught:
        stack.up(lines(edited("  - id: sales\n", "  - id: sales-desk\n")))
    assert "sales-desk looks like a rename of sales" in str(caught.value)
    assert "`renamed_from: [sales]`" in str(caught.value)
    assert sum(stack.writes.values()) == 0


def test_a_removal_after_a_console_edit_keeps_the_console_value(stack: Stack) -> None:
    stack.up(lines())
    stack.double.edit_number(FAY, voice_fallback_url="https://console.acme.example/fay")
    stack.state, _ = stack.engine.engine.refresh(stack.state)  # outputs now hold its value
    run = stack.up(lines(_without_line("fay")), allow_removals=True)
    assert ("update", number_batch("fay")) in run.changed
    fay = number(stack.double, FAY)
    assert fay["voice_fallback_url"] == "https://console.acme.example/fay"
    assert fay["voice_url"] == LEGACY + "fay"
    (res,) = [r for urn, r in stack.state.items() if urn.endswith(f"::{number_batch('fay')}")]
    assert "console" not in str(res["outputs"]["lines"])
    assert "left as it is now" in res["outputs"]["left_alone"]["fay"][0]
    assert stack.writes["IncomingPhoneNumber.update"] == 0
    assert stack.double.deletes_of_numbers() == []


def test_destroy_stops_at_the_guard_until_allowed_then_restores_and_releases_nothing(
    stack: Stack,
) -> None:
    config = lines()
    stack.up(config)
    (guard,) = [urn for urn in stack.state if urn.endswith("::destroy-guard")]
    assert stack.state[guard]["protect"] and list(stack.state)[-1] == guard
    fallbacks = {n: number(stack.double, n)["voice_fallback_url"] for n in (SALES, FAY)}

    with pytest.raises(EngineError, match="destroy-guard: it is protected") as refused:
        stack.engine.engine.destroy(stack.state)
    assert refused.value.ops == []  # refused at the first delete: nothing was deleted
    assert {n: number(stack.double, n)["voice_fallback_url"] for n in fallbacks} == fallbacks

    run = stack.up(config, allow_destroy=True)  # only lifts the protection
    assert run.changed == [] and sum(stack.writes.values()) == 0
    assert not stack.state[guard]["protect"]
    _, ops = stack.engine.engine.destroy(stack.state)
    assert ops[0] == ("delete", guard) and {op for op, _ in ops} == {"delete"}
    for line in config.lines:
        restored = number(stack.double, line.number)
        assert restored["voice_fallback_url"] in (None, ""), line.id
        assert restored["voice_url"] in (LEGACY + line.id, line.primary), line.id
    assert stack.double.deletes_of_numbers() == []


def test_with_alerts_a_renamed_lines_flow_is_renamed_in_place_through_its_alias(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert_flow_rule(monkeypatch)  # stacks deployed by 0.2 with alerts keep flows until `up`
    hooks = "https://hooks.acme.example/failover"
    stack.up(dataclasses.replace(lines(), alerts_webhook=hooks))
    (flow,) = [
        f for f in stack.double.state.flows.values() if f["friendly_name"].endswith("-sales")
    ]
    flows = len(stack.double.state.flows)
    renamed = dataclasses.replace(lines(edited("  - id: sales\n", RENAMED)), alerts_webhook=hooks)

    run = stack.up(renamed)

    assert ("update", "sales-desk") in run.changed  # the alias: same flow, not a new one
    assert not [op for op in run.changed if op[1] in ("sales", "sales-desk") and op[0] != "update"]
    (renamed_flow,) = [
        f for f in stack.double.state.flows.values() if f["friendly_name"].endswith("-sales-desk")
    ]
    assert renamed_flow["sid"] == flow["sid"] and len(stack.double.state.flows) == flows
    # the number's fallback is the flow's webhook (by SID): it does not even change
    assert stack.writes["IncomingPhoneNumber.update"] == 0
    assert number(stack.double, SALES)["voice_fallback_url"] == run.outputs["lines"]["sales-desk"]
