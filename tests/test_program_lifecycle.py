"""The program's lifecycle options under Pulumi's mocks (issue 16): the destroy guard's
protection and dependencies, renamed lines' batches, ledger input and flow aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from infra import program
from infra.lines.load import load_bytes
from infra.model import LinesConfig
from infra.naming import number_batch
from tests.harness.legacy import alert_flow_rule
from tests.test_program import FakeOutputs, shipped

RENAMED = """\
version: 1
account: {name: acme}
alerts: {webhook: https://hooks.acme.example/failover}
lines:
  - {id: sales-desk, type: department, number: "+14155550101", renamed_from: [sales],
     failover: {forward: "+14155550188"}}
  - {id: fay, type: user, number: "+14155550107"}
"""


class OptionsMonitor(pulumi.runtime.mocks.MockMonitor):
    """Records each registration's name, protect flag, dependencies and aliases."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.seen: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        self.seen[request.name] = {
            "type": request.type,
            "protect": bool(request.protect),
            "dependencies": list(request.dependencies),
            "aliases": [a.spec.name if a.HasField("spec") else a.urn for a in request.aliases],
            "secret_outputs": list(request.additionalSecretOutputs),
            "inputs": pulumi.runtime.rpc.deserialize_properties(request.object),
        }
        return response


@pytest.fixture
def monitor() -> Iterator[OptionsMonitor]:
    mocks = FakeOutputs()
    capturing = OptionsMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="failover", stack="dev", preview=False, monitor=capturing
    )
    yield capturing
    pulumi.runtime.settings.configure(
        pulumi.runtime.settings.Settings(project="failover", stack="dev")
    )
    pulumi.runtime.set_all_config({})


def run(config: LinesConfig, **settings: Any) -> None:
    stack_settings = program.StackSettings(stack="dev", **settings)
    root = pulumi.runtime.get_root_resource()
    if root is not None:
        root.outputs.clear()  # type: ignore[attr-defined]

    @pulumi.runtime.test
    def body() -> pulumi.Output[None]:
        program.export(config, stack_settings, program.build(config, stack_settings))
        stack = pulumi.runtime.get_root_resource()
        return pulumi.Output.from_input(dict(stack.outputs)).apply(lambda _: None)  # type: ignore[union-attr]

    body()


def test_the_destroy_guard_is_last_depends_on_everything_and_is_protected_by_default(
    monitor: OptionsMonitor,
) -> None:
    run(shipped())
    names = list(monitor.seen)
    guard = monitor.seen["destroy-guard"]
    assert names[-1] == "destroy-guard" and guard["protect"] is True
    others = {name for name in names if name != "destroy-guard"}
    depends = {urn.rsplit("::", 1)[-1] for urn in guard["dependencies"]}
    assert depends == others  # Pulumi deletes it before anything it depends on


def test_allow_destroy_lifts_the_protection(monitor: OptionsMonitor) -> None:
    run(shipped(), allow_destroy=True)
    assert monitor.seen["destroy-guard"]["protect"] is False
    assert not any(r["protect"] for r in monitor.seen.values())


def test_a_renamed_line_stays_in_its_oldest_ids_batch_and_keeps_its_flow(
    monitor: OptionsMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert_flow_rule(monkeypatch)  # stacks deployed by 0.2 with alerts keep flows until `up`
    config, _ = load_bytes(RENAMED.encode(), "lines.yaml")
    run(config)
    assert number_batch("sales") != number_batch("sales-desk")
    batch = monitor.seen[number_batch("sales")]
    assert set(batch["inputs"]["lines"]) == {"sales-desk"}
    assert batch["inputs"]["renamed"] == {"sales-desk": ["sales"]}
    fays = monitor.seen[number_batch("fay")]["inputs"]  # also sales-desk's own hash
    assert number_batch("fay") == number_batch("sales-desk")
    assert set(fays["lines"]) == {"fay"} and "renamed" not in fays
    assert monitor.seen["lines"]["inputs"]["renamed"] == {"sales-desk": ["sales"]}
    assert monitor.seen["sales-desk"]["aliases"] == ["sales"]
    assert monitor.seen["fay"]["aliases"] == []


def test_number_batches_keep_their_outputs_as_secrets(monitor: OptionsMonitor) -> None:
    """Each batch's ``lines`` output holds the values found at adoption, which may be Console
    URLs with credentials: it is registered as a secret output (encrypted in state)."""
    config, _ = load_bytes(RENAMED.encode(), "lines.yaml")
    run(config)
    batches = {n: r for n, r in monitor.seen.items() if r["type"].endswith(":PhoneNumberBatch")}
    assert batches and all(r["secret_outputs"] == ["lines"] for r in batches.values())
    others = [r for r in monitor.seen.values() if not r["type"].endswith(":PhoneNumberBatch")]
    assert all(r["secret_outputs"] == [] for r in others)
