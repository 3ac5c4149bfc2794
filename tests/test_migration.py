"""Upgrading a deployed 0.2 stack (engine-model scenario, docs/design/scale.md §9).

0.2's state is built by running the providers that still exist with the inputs 0.2 registered
(``tests.harness.legacy``), through the real provider host against the Twilio double, on numbers
that had their own voice URL and fallback before the tool came. That state becomes a
``pulumi stack export``, goes through ``infra.migrate``, comes back, and the real 0.3 program is
applied to it. After every write the double applies, every number must point at something
deployed; no number is ever released; the numbers' pre-tool settings survive.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.migrate import BATCH_TYPE, OLD_TYPE, migrate
from infra.model import LinesConfig
from infra.naming import ENVIRONMENT, number_batch
from infra.program import StackSettings
from tests.harness.invariants import EntryWatcher, entry_problems
from tests.harness.legacy import T, from_export, legacy_flows, legacy_registrations, to_export
from tests.harness.program_engine import PROJECT, STACK, ProgramEngine, Run
from tests.test_scenarios import LEGACY, _without_line, lines, number
from tests.twilio_double import AccountState, TwilioDouble
from tests.twilio_double.internet import PrimaryOutcome
from tests.twilio_double.people import Caller

ORIGINAL_FALLBACK = "https://legacy-pbx.acme.example/fallback/"
"""Each number's fallback before the tool adopted it: what removing a line must bring back."""


def seed(double: TwilioDouble, config: LinesConfig) -> None:
    for line in config.lines:
        double.seed_number(
            line.number,
            voice_url=LEGACY + line.id,
            voice_fallback_url=ORIGINAL_FALLBACK + line.id,
            friendly_name=line.display_name,
        )


# -- the scenario ------------------------------------------------------------------------


class Upgrade:
    """A 0.2 stack, migrated and applied with 0.3, with every number write checked."""

    def __init__(self, double: TwilioDouble) -> None:
        self.double, self.config = double, lines()
        seed(double, self.config)
        self.watcher = EntryWatcher()
        double.on_write(self.watcher)
        self.number_writes: list[list[str]] = []
        double.on_write(self._on_write)
        self.engine = ProgramEngine.for_double(double)
        self.legacy, _ = self.engine.engine.up(legacy_registrations(self.config), {})
        self.legacy_number_writes, self.number_writes = self.number_writes, []
        self.exported = to_export(self.legacy)
        self.migration = migrate(self.exported)
        migrated = from_export(self.migration.checkpoint)
        # `pulumi refresh` right after the import: reads only, through the stored providers
        self.refreshed = self.engine.engine.refresh(migrated)
        self.run: Run = self.engine.up(self.config, StackSettings(stack=STACK), migrated)

    def _on_write(self, kind: str, state: AccountState) -> None:
        if kind == "IncomingPhoneNumber.update":
            self.number_writes.append(entry_problems(state))


@pytest.fixture(scope="module")
def upgrade(twilio_spec_dir: Path) -> Iterator[Upgrade]:
    """One upgrade for the module (each takes about 20 s); the removal test runs last."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TWILIO_REGION", raising=False)
        patch.delenv("TWILIO_EDGE", raising=False)
        with TwilioDouble(spec_dir=twilio_spec_dir) as double:
            yield Upgrade(double)
            assert double.violations == [], double.explain()
            assert double.deletes_of_numbers() == []


def test_the_legacy_state_is_0_2_shaped(upgrade: Upgrade) -> None:
    types = [res["type"].rsplit(":", 1)[-1] for res in upgrade.legacy.values()]
    assert types.count("PhoneNumberFailover") == len(upgrade.config.lines)
    assert "PhoneNumberBatch" not in types and types.count("StudioFlow") == 7
    docs = next(r for r in upgrade.legacy.values() if r["type"].endswith("TwimlDocuments"))
    assert docs["inputs"]["environment"] == ENVIRONMENT
    assert all(path.startswith("/lines/") for path in docs["outputs"]["documents"])
    fay = next(r for u, r in upgrade.legacy.items() if u.endswith("::fay"))
    assert fay["outputs"]["adopted"]["voice_fallback_url"] == ORIGINAL_FALLBACK + "fay"


def test_the_migrated_batches_read_back_exactly_as_stored(upgrade: Upgrade) -> None:
    """A refresh reads every number through the stored batch provider and finds the state
    as the migration wrote it: per-line outputs have exactly the batch's own shape."""
    state, ops = upgrade.refreshed
    batches = {urn for urn, res in state.items() if res["type"] == BATCH_TYPE}
    assert len(batches) == len(upgrade.migration.batches)
    assert {op for op, urn in ops if urn in batches} == {"refresh-same"}, ops


def test_every_number_write_of_the_first_0_3_up_leaves_every_entry_deployed(
    upgrade: Upgrade,
) -> None:
    assert len(upgrade.legacy_number_writes) == len(upgrade.config.lines)  # 0.2 adopted each
    moved = len(upgrade.config.lines) - 1  # billing's fallback is its own server in both models
    assert len(upgrade.number_writes) == moved
    assert [problems for problems in upgrade.number_writes if problems] == []
    assert upgrade.watcher.problems == []
    assert upgrade.double.deletes_of_numbers() == []


def test_the_first_0_3_up_updates_batches_and_only_then_deletes_the_old_model(
    upgrade: Upgrade,
) -> None:
    ops = upgrade.run.ops
    created = upgrade.run.kinds("create")
    assert created and all(
        name.startswith("documents-") or name in ("agent-links", "destroy-guard")
        for name in created
    ), created
    batches = set(upgrade.migration.batches)
    billing = number_batch("billing")  # its fallback URL is the same in both models
    assert set(upgrade.run.kinds("update")) & batches == batches - {billing}
    assert billing in upgrade.run.kinds("same")
    deleted = upgrade.run.kinds("delete")
    assert deleted == sorted(["documents", *[k for k in legacy_flows(upgrade.config)]])
    first_delete = next(i for i, (kind, _) in enumerate(ops) if kind == "delete")
    assert all(kind != "update" for kind, _ in ops[first_delete:])
    d = upgrade.double
    assert d.state.flows == {}
    environments = {e["unique_name"] for e in d.state.environments.values()}
    assert ENVIRONMENT not in environments and "shared" in environments
    live = upgrade.run.outputs["lines"]
    for line in upgrade.config.lines:  # each number on its 0.3 entry, none restored meanwhile
        assert number(d, line.number)["voice_fallback_url"] == live[line.id]
        assert live[line.id] != ORIGINAL_FALLBACK + line.id
    for record in d.state.numbers.values():
        for key in ("voice_url", "voice_fallback_url"):
            url = record.get(key) or ""
            assert "/lines/" not in url and "webhooks.twilio.com" not in url, (key, url)


def test_after_the_upgrade_a_caller_reaches_voicemail(upgrade: Upgrade) -> None:
    forward = "+14155550124"  # dana's last forwarding number, her failover
    journey = upgrade.double.place_call(
        "+14155550105",
        "+16285550199",
        primary=PrimaryOutcome.http_500,
        callees={forward: "no-answer"},
        caller=Caller(message_seconds=12),
    )
    assert journey.outcome == "voicemail", str(journey)
    assert journey.recording_sid in upgrade.double.state.recordings


def test_the_batches_carry_0_2_originals_and_restore_them_on_removal(upgrade: Upgrade) -> None:
    state = upgrade.run.state
    for line in upgrade.config.lines:
        old = upgrade.legacy[
            f"urn:pulumi:{STACK}::{PROJECT}::{T}twilio:PhoneNumberFailover::{line.id}"
        ]
        batch = state[f"urn:pulumi:{STACK}::{PROJECT}::{BATCH_TYPE}::{number_batch(line.id)}"]
        assert batch["outputs"]["lines"][line.id]["adopted"] == old["outputs"]["adopted"]
        assert batch["outputs"]["lines"][line.id]["sid"] == old["outputs"]["sid"]
    assert not any(res["type"] == OLD_TYPE for res in state.values())
    settings = StackSettings(stack=STACK, allow_removals=True)
    upgrade.engine.up(lines(_without_line("fay")), settings, state)
    fay = number(upgrade.double, "+14155550107")
    assert fay["voice_fallback_url"] == ORIGINAL_FALLBACK + "fay"
    assert fay["voice_url"] == LEGACY + "fay"
    assert upgrade.double.deletes_of_numbers() == []
