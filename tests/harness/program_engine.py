"""Run the real Pulumi program (``infra.program.build``) through the engine model.

Pulumi's SDK sends a resource's registration only once the outputs it depends on are
known, so a ``Mocks.new_resource`` that performs the engine step for that resource
(Check, then Create/Diff/Update/same through a real provider host, against the Twilio
double) and returns the real outputs drives the whole program in dependency order,
``Output.apply`` wiring included. Resources in state that the program no longer registers
are deleted afterwards, newest first, as the engine does.

Steps run concurrently, as in the engine: the SDK registers each resource on a thread of
its own as soon as its dependencies are registered and its inputs known, and the provider
host serves at most 4 calls at once (its gRPC server has 4 workers), which is the only
bound, as with ``pulumi up``. After the first failed step no new step starts (the engine
stops scheduling; steps already running finish), so the state an ``EngineError`` carries is
what the engine would have saved.

    engine = ProgramEngine(double)
    run = engine.up(config, settings)             # first apply
    run = engine.up(config, settings, run.state)  # second apply: run.ops are all "same"

Used by the multi-run scenarios, the fault-convergence suite and the benchmarks.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks

from infra import program
from infra.model import LinesConfig
from tests.harness.engine import EngineError, MiniEngine, Ops, Registration, State
from tests.harness.host import UNKNOWN, HostError, ProviderHost

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
    """Each registration becomes one engine step on a live provider host (concurrently)."""

    def __init__(
        self, engine: MiniEngine, host: ProviderHost, state: State, ops: Ops, preview: bool = False
    ) -> None:
        self.engine, self.host, self.state, self.ops = engine, host, state, ops
        self.preview = preview
        self.previewed: dict[str, dict[str, Any]] = {}
        """In a preview: each resource's inputs as registered (unknowns as ``UNKNOWN``)."""
        self.pending: list[tuple[str, dict[str, Any], bool]] = []
        self.seen: list[str] = []
        self.error: EngineError | None = None
        self._lock = threading.Lock()
        self.options: dict[tuple[str, str], tuple[bool, bool, tuple[str, ...]]] = {}
        """(type, name) -> (protect, retain_on_delete, alias names), from ``_OptionsMonitor``."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        news = _wire(dict(args.inputs))
        protect, retain, aliases = self.options.get((args.typ, args.name), (False, False, ()))
        reg = Registration(
            args.typ, args.name, news, protect=protect, retain_on_delete=retain, aliases=aliases
        )
        urn = self.engine.urn(reg)
        with self._lock:
            self.seen.append(urn)
            if self.error is not None:
                raise EngineError(
                    f"{urn} not started: an earlier step failed", self.state, self.ops
                )
        try:
            self.engine._step(  # noqa: SLF001
                self.host, reg, news, urn, self.state, self.ops, self.pending, self.preview
            )
        except HostError as exc:
            error = EngineError(f"{exc.method} failed: {exc.details}", self.state, self.ops, exc)
            self._failed(error)
            raise error from exc
        except Exception as exc:
            self._failed(
                exc
                if isinstance(exc, EngineError)
                else EngineError(f"{urn}: {type(exc).__name__}: {exc}", self.state, self.ops, exc)
            )
            raise
        if self.preview:
            self.previewed[urn] = news
            step = next(op for op, done in reversed(self.ops) if done == urn)
            if step != "same":
                # provider_plugin.go: a provider without preview support hands back the new
                # inputs as the outputs of a previewed create or update; the SDK makes every
                # other output (a domain, a SID) unknown.
                return self.state.get(urn, {}).get("id", ""), copy.deepcopy(news)
        return self.state[urn]["id"], copy.deepcopy(self.state[urn]["outputs"])

    def _failed(self, error: EngineError) -> None:
        with self._lock:
            self.error = self.error or error

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def _wire(value: Any) -> Any:
    """A preview's unknown values as the engine sends them to a provider: the wire sentinel."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return UNKNOWN if isinstance(value, Unknown) else value


class _OptionsMonitor(pulumi_mocks.MockMonitor):
    """Hands each registration's ``protect``, ``retainOnDelete`` and aliases to the step (the
    mocks' ``new_resource`` does not receive resource options)."""

    def __init__(self, mocks: _StepMocks) -> None:
        super().__init__(mocks)
        self.step_mocks = mocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        aliases = tuple(a.spec.name for a in request.aliases if a.HasField("spec"))
        options = (bool(request.protect), bool(request.retainOnDelete), aliases)
        self.step_mocks.options[(request.type, request.name)] = options
        return super().RegisterResource(request)


class _SpareHost:
    """Hands out provider hosts, starting the next one while the current run uses its own.

    Each run gets a fresh host, as with the CLI; only the ~0.3 s of process start moves off
    the critical path. A spare that died meanwhile is replaced.
    """

    def __init__(self) -> None:
        self._starter = ThreadPoolExecutor(1, thread_name_prefix="spare-provider-host")
        self._next: Future[ProviderHost] | None = None
        self._lock = threading.Lock()
        atexit.register(self.close)

    def take(self) -> ProviderHost:
        with self._lock:
            spare, self._next = self._next, self._starter.submit(ProviderHost, project=PROJECT)
        host = self._started(spare)
        if host is None or host.proc.poll() is not None:
            if host is not None:
                host.close()
            host = ProviderHost(project=PROJECT)
        return host

    @staticmethod
    def _started(spare: Future[ProviderHost] | None) -> ProviderHost | None:
        try:
            return spare.result() if spare is not None else None
        except Exception:  # noqa: BLE001 - a spare that failed to start: start one now instead
            return None

    def close(self) -> None:
        with self._lock:
            spare, self._next = self._next, None
        host = self._started(spare)
        if host is not None:
            host.close()


_SPARE = _SpareHost()


class ProgramEngine:
    """A stack (config + state) that the real program is applied to, run after run."""

    def __init__(self, config: dict[str, Any], secret_keys: set[str]) -> None:
        self.engine = MiniEngine(
            config, secret_keys, project=PROJECT, stack=STACK, host_factory=_SPARE.take
        )

    @classmethod
    def for_double(cls, double: Any) -> ProgramEngine:
        # The keys a stack sets today (``infra.stack``); the provider tests' harness
        # (``tests.harness.support``) keeps the deprecated ``twilio:`` ones, still read.
        config = {
            "failover:accountSid": double.account_sid,
            "failover:authToken": double.auth_token,
            "failover:apiBaseUrl": double.base_url,
        }
        return cls(config, {"failover:authToken"})

    def up(
        self,
        lines: LinesConfig,
        settings: program.StackSettings,
        state: State | None = None,
        *,
        refresh: bool = False,
    ) -> Run:
        """Apply the program once; raises EngineError (with the state saved so far) on failure.

        ``refresh``: ``pulumi up --refresh`` (or Pulumi.yaml's ``options.refresh: always``):
        every resource in state is read first (``MiniEngine.refresh``), and the program is
        then diffed against what was read; the refresh steps lead ``ops``.
        """
        state, ops = copy.deepcopy(state or {}), []
        if refresh:
            state, ops = self.engine.refresh(state)
        with self.engine._host() as host:  # noqa: SLF001
            mocks = _StepMocks(self.engine, host, state, ops)
            outputs = self._run_program(mocks, lines, settings)
            # The checkpoint lists resources in the order this run's steps happened (each after
            # what it depends on), then the ones left to delete (pulumi/pulumi
            # pkg/backend/snapshot.go): a resource created now goes before the older resources
            # that depend on it, so a later run deletes the dependents first.
            ordered = {urn: state[urn] for urn in mocks.seen if urn in state}
            ordered.update((urn, res) for urn, res in state.items() if urn not in ordered)
            state.clear()
            state.update(ordered)
            removed = [urn for urn in state if urn not in mocks.seen]
            mocks.pending += [(urn, state[urn], False) for urn in reversed(removed)]
            try:
                for urn, res, replaced in mocks.pending:
                    self.engine._delete(host, urn, res, state, ops, False, replaced=replaced)  # noqa: SLF001
            except Exception as exc:
                raise EngineError(f"delete failed: {exc}", state, ops, exc) from exc
        return Run(state, ops, outputs)

    def preview(
        self, lines: LinesConfig, settings: program.StackSettings, state: State
    ) -> tuple[Ops, dict[str, dict[str, Any]]]:
        """``pulumi preview`` (without refresh): the program in dry-run mode, each registration
        only Checked and Diffed through a provider host configured with this engine's config;
        nothing is created, updated or deleted. A resource the preview would create or update
        hands its inputs on as its outputs, the rest unknown, as the engine does. Returns the
        steps and each resource's registered inputs by logical name."""
        state, ops = copy.deepcopy(state), []
        with self.engine._host() as host:  # noqa: SLF001
            mocks = _StepMocks(self.engine, host, state, ops, preview=True)
            self._run_program(mocks, lines, settings)
            removed = [urn for urn in state if urn not in mocks.seen]
            ops += [("delete", urn) for urn in reversed(removed)]
        return ops, {urn.rsplit("::", 1)[-1]: news for urn, news in mocks.previewed.items()}

    @staticmethod
    def _run_program(
        mocks: _StepMocks, lines: LinesConfig, settings: program.StackSettings
    ) -> dict[str, Any]:
        pulumi.runtime.set_mocks(
            mocks,
            project=PROJECT,
            stack=STACK,
            preview=mocks.preview,
            monitor=_OptionsMonitor(mocks),
        )
        _quiet_reported_failures(asyncio.get_event_loop())
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
            if mocks.error is None:
                raise EngineError(
                    f"program failed: {type(exc).__name__}: {exc}", mocks.state, mocks.ops, exc
                ) from exc
        if mocks.error is not None:
            error = mocks.error
            # A fresh error: the raised one carries the SDK's frames (and so its futures).
            raise EngineError(str(error), error.state, error.ops, error.cause)
        return resolved


def _quiet_reported_failures(loop: asyncio.AbstractEventLoop) -> None:
    """Drop asyncio's "Future exception was never retrieved" records for step failures.

    A failed step leaves SDK futures holding its error, which ``up`` already raises. When
    they are collected asyncio logs each one with its traceback, and Python 3.11 formats a
    traceback with ``ast.parse``: run by a finalizer while another ``ast.parse`` is under
    way (pytest rewriting a module), that fails the whole session with ``SystemError: AST
    constructor recursion depth mismatch`` (the AST state is per interpreter,
    python/cpython#106905). Anything else goes to the default handler.
    """

    def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not isinstance(context.get("exception"), EngineError | HostError):
            loop.default_exception_handler(context)

    loop.set_exception_handler(quiet)
