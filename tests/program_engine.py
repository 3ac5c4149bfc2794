"""Run the real Pulumi program (``infra.program.build``) through the engine model.

Pulumi's SDK sends a resource's registration only once the outputs it depends on are
known, so a ``Mocks.new_resource`` that performs the engine step for that resource
(Check, then Create/Diff/Update/same through a real provider host, against the Twilio
double) and returns the real outputs drives the whole program in dependency order,
``Output.apply`` wiring included. Resources in state that the program no longer registers
are deleted afterwards, newest first, as the engine does.

    engine = ProgramEngine(double)
    run = engine.up(config, settings)             # first apply
    run = engine.up(config, settings, run.state)  # second apply: run.ops are all "same"

Used by the multi-run scenarios, the fault-convergence suite and the benchmarks.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from infra import program
from infra.model import LinesConfig
from tests.providers.engine import EngineError, MiniEngine, Ops, Registration, State
from tests.providers.host import ProviderHost

PROJECT, STACK = "failover", "dev"


@dataclass
class Run:
    """What one ``up`` left behind."""

    state: State
    ops: Ops
    outputs: dict[str, Any] = field(default_factory=dict)

    def kinds(self, op: str) -> list[str]:
        """Logical names of resources that had step ``op`` (``create``, ``update``, ...)."""
        return sorted(urn.rsplit("::", 1)[-1] for kind, urn in self.ops if kind == op)

    @property
    def changed(self) -> list[tuple[str, str]]:
        return [(kind, urn.rsplit("::", 1)[-1]) for kind, urn in self.ops if kind != "same"]


class _StepMocks(pulumi.runtime.Mocks):
    """Each registration becomes one engine step on a live provider host."""

    def __init__(self, engine: MiniEngine, host: ProviderHost, state: State, ops: Ops) -> None:
        self.engine, self.host, self.state, self.ops = engine, host, state, ops
        self.pending: list[tuple[str, dict[str, Any], bool]] = []
        self.seen: list[str] = []
        self.error: EngineError | None = None
        self._lock = threading.Lock()

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        with self._lock:
            news = dict(args.inputs)
            reg = Registration(args.typ, args.name, news)
            urn = self.engine.urn(reg)
            self.seen.append(urn)
            try:
                self.engine._step(
                    self.host, reg, news, urn, self.state, self.ops, self.pending, False
                )  # noqa: SLF001
            except EngineError as exc:
                self.error = self.error or exc
                raise
            return self.state[urn]["id"], copy.deepcopy(self.state[urn]["outputs"])

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class ProgramEngine:
    """A stack (config + state) that the real program is applied to, run after run."""

    def __init__(self, config: dict[str, Any], secret_keys: set[str]) -> None:
        self.engine = MiniEngine(config, secret_keys, project=PROJECT, stack=STACK)

    @classmethod
    def for_double(cls, double: Any) -> ProgramEngine:
        config = {
            "twilio:accountSid": double.account_sid,
            "twilio:authToken": double.auth_token,
            "twilio:apiBaseUrl": double.base_url,
        }
        return cls(config, {"twilio:authToken"})

    def up(
        self, lines: LinesConfig, settings: program.StackSettings, state: State | None = None
    ) -> Run:
        """Apply the program once; raises EngineError (with the state saved so far) on failure."""
        state, ops = copy.deepcopy(state or {}), []
        with self.engine._host() as host:  # noqa: SLF001
            mocks = _StepMocks(self.engine, host, state, ops)
            outputs = self._run_program(mocks, lines, settings)
            removed = [urn for urn in state if urn not in mocks.seen]
            mocks.pending += [(urn, state[urn], False) for urn in reversed(removed)]
            try:
                for urn, res, replaced in mocks.pending:
                    self.engine._delete(host, urn, res, state, ops, False, replaced=replaced)  # noqa: SLF001
            except Exception as exc:
                raise EngineError(f"delete failed: {exc}", state, ops, exc) from exc
        return Run(state, ops, outputs)

    @staticmethod
    def _run_program(
        mocks: _StepMocks, lines: LinesConfig, settings: program.StackSettings
    ) -> dict[str, Any]:
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False)
        root = pulumi.runtime.get_root_resource()
        if root is not None:
            root.outputs.clear()  # type: ignore[attr-defined]
        resolved: dict[str, Any] = {}

        @pulumi.runtime.test
        def body() -> pulumi.Output[None]:
            program.export(lines, settings, program.build(lines, settings))
            stack = pulumi.runtime.get_root_resource()
            return pulumi.Output.from_input(dict(stack.outputs)).apply(resolved.update)  # type: ignore[union-attr]

        try:
            body()
        except Exception as exc:
            if mocks.error is not None:
                raise mocks.error from exc
            raise EngineError(
                f"program failed: {type(exc).__name__}: {exc}", mocks.state, mocks.ops, exc
            ) from exc
        if mocks.error is not None:
            raise mocks.error
        return resolved
