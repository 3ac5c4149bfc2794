"""Stacks deployed by an earlier release keep working: their pickled providers still load.

Each resource in a user's Pulumi state stores its provider as a dill pickle *by reference*
(module path + class name), recorded in ``tests/fixtures/state/``. This test applies the
shipped lines.yaml with today's code, swaps every stored ``__provider`` for the one the
earlier release recorded, and runs Read (``pulumi refresh``) and Delete (``pulumi destroy``)
through Pulumi's real provider host. Renaming or moving a provider module or class fails it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.program import StackSettings
from tests.harness.program_engine import ProgramEngine
from tests.test_scenarios import lines, seed_account

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "state"


def _recorded() -> dict[str, str]:
    providers: dict[str, str] = {}
    for path in sorted(RECORDED.glob("provider-strings-*.json")):
        providers.update(json.loads(path.read_text())["providers"])
    return providers


def test_state_from_an_earlier_release_refreshes_and_destroys(twilio_double: Any) -> None:
    recorded = _recorded()
    config = lines()
    seed_account(twilio_double, config)
    engine = ProgramEngine.for_double(twilio_double)
    state = engine.up(config, StackSettings(stack="dev")).state

    swapped = set()
    for urn, res in state.items():
        type_name = urn.split("::")[2].rsplit(":", 1)[-1]
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
