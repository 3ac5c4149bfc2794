"""A tiny model of the Pulumi engine's step logic, for multi-run scenarios without the CLI.

Each ``up``/``preview``/``refresh``/``destroy`` starts a fresh provider host (as the CLI does
per run), sends ``Configure`` with the whole stack config, and then, per registration, in
order (rules from pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` and ``step.go``):

- ``Check(olds=stored inputs, news)``; failures abort the run.
- New URN -> ``Create``.
- Otherwise ``Diff(olds=stored outputs, news=checked, old_inputs=stored inputs)``:
  ``DIFF_UNKNOWN`` -> the engine compares old and new inputs (``__provider`` included);
  no change -> "same" (old outputs kept, new inputs stored);
  ``replaces`` -> refused when protected (old and new); otherwise create-then-delete, or
  delete-then-create when ``delete_before_replace``; Delete is skipped when retained;
  anything else -> ``Update`` (its outputs replace the stored ones).
- URNs in state but not registered -> delete, newest first: refused when protected, only
  dropped from state when ``retain_on_delete`` (no Delete call).
- ``refresh`` calls ``Read(properties=outputs, inputs=inputs)``: empty id -> dropped.

Not modelled: dependency graphs (registration order is the order), parallelism,
``ignore_changes``, pending operations, secret encryption. Aliases: by logical name only.

State mirrors the checkpoint, and is plain JSON (``json.dump`` it between processes)::

    {urn: {"type", "id", "inputs", "outputs", "protect", "retain_on_delete"}}

Use::

    engine = MiniEngine(config, secret_keys={"twilio:authToken"})
    regs = [Registration(TYPE, "sales", {"__provider": provider_string(P()), **inputs})]
    state, ops = engine.up(regs, {})          # ops: [("create", urn)]
    state, ops = engine.up(regs, state)       # [("same", urn)]
    state, ops = engine.refresh(state)        # [("refresh-changed", urn)] after a console edit
    state, ops = engine.destroy(state)        # [("delete", urn)]

A failing step raises ``EngineError`` carrying the state as persisted up to that point (what
the CLI would have saved), so a test can re-run from it: ``engine.up(regs, err.state)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.harness.host import UNKNOWN, HostError, ProviderHost, urn_for

State = dict[str, dict[str, Any]]
Ops = list[tuple[str, str]]


@dataclass(frozen=True)
class Registration:
    """One resource the program registered: type token, logical name, inputs, options."""

    type: str
    name: str
    inputs: Mapping[str, Any] | Callable[[Mapping[str, Mapping[str, Any]]], Mapping[str, Any]]
    """Inputs as the SDK sends them, ``__provider`` (plain string) included; or a function
    of the outputs (by logical name) of the resources registered before it in this run, for
    inputs that are another resource's outputs. In a preview, outputs not known yet read as
    ``UNKNOWN``, as the engine sends them."""
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    aliases: tuple[str, ...] = ()
    """Earlier logical names (``pulumi.Alias(name=...)``, same type and parent)."""


class _Unknowns(dict):  # type: ignore[type-arg]
    """Outputs of a resource a preview would create or update: every key is unknown."""

    def __missing__(self, key: str) -> str:
        return UNKNOWN


class EngineError(Exception):
    """A run stopped at a failing step; ``state`` is what the engine would have saved."""

    def __init__(
        self, message: str, state: State, ops: Ops, cause: Exception | None = None
    ) -> None:
        super().__init__(message)
        self.state, self.ops, self.cause = state, ops, cause


class MiniEngine:
    """Runs registrations against stored state through a real provider host per run."""

    def __init__(
        self,
        config: Mapping[str, Any],
        secret_keys: Iterable[str] = (),
        *,
        project: str = "lines",
        stack: str = "dev",
        host_factory: Callable[[], ProviderHost] | None = None,
    ) -> None:
        self.config, self.secret_keys = dict(config), set(secret_keys)
        self.project, self.stack = project, stack
        self.host_factory = host_factory or (lambda: ProviderHost(project=project))

    def urn(self, reg: Registration) -> str:
        return urn_for(reg.type, reg.name, self.project, self.stack)

    # -- runs -------------------------------------------------------------------------------

    def up(self, regs: Iterable[Registration], state: State) -> tuple[State, Ops]:
        return self._run(list(regs), state, preview=False)

    def preview(self, regs: Iterable[Registration], state: State) -> Ops:
        """Check and Diff only; returns the steps ``up`` would take. Makes no writes."""
        return self._run(list(regs), state, preview=True)[1]

    def destroy(self, state: State) -> tuple[State, Ops]:
        return self._run([], state, preview=False)

    def refresh(self, state: State) -> tuple[State, Ops]:
        state, ops = copy.deepcopy(state), []
        with self._host() as host:
            for urn, res in list(state.items()):
                try:
                    id_, outs, inputs = host.read(urn, res["id"], res["outputs"], res["inputs"])
                except HostError as exc:
                    raise EngineError(f"refresh of {urn} failed", state, ops, exc) from exc
                if not id_:
                    del state[urn]
                    ops.append(("refresh-deleted", urn))
                    continue
                changed = outs != res["outputs"] or (inputs is not None and inputs != res["inputs"])
                res.update(id=id_, outputs=outs)
                if inputs is not None:
                    res["inputs"] = inputs
                ops.append(("refresh-changed" if changed else "refresh-same", urn))
        return state, ops

    # -- internals ----------------------------------------------------------------------------

    def _host(self) -> ProviderHost:
        host = self.host_factory()
        try:
            host.configure(self.config, self.secret_keys)
        except BaseException:
            host.close()
            raise
        return host

    def _run(self, regs: list[Registration], state: State, preview: bool) -> tuple[State, Ops]:
        state, ops = copy.deepcopy(state), []
        pending_deletes: list[tuple[str, dict[str, Any], bool]] = []
        seen: set[str] = set()
        resolved: dict[str, Mapping[str, Any]] = {}
        with self._host() as host:
            try:
                for reg in regs:
                    urn = self.urn(reg)
                    seen.add(urn)
                    news = dict(reg.inputs(resolved) if callable(reg.inputs) else reg.inputs)
                    self._step(host, reg, news, urn, state, ops, pending_deletes, preview)
                    unknown = preview and ops[-1][0] != "same"
                    resolved[reg.name] = _Unknowns() if unknown else state[urn]["outputs"]
                for urn in reversed([u for u in state if u not in seen]):
                    pending_deletes.append((urn, state[urn], False))
                for urn, res, replaced in pending_deletes:
                    self._delete(host, urn, res, state, ops, preview, replaced=replaced)
            except HostError as exc:
                raise EngineError(f"{exc.method} failed: {exc.details}", state, ops, exc) from exc
        return state, ops

    def _step(
        self,
        host: ProviderHost,
        reg: Registration,
        news: dict[str, Any],
        urn: str,
        state: State,
        ops: Ops,
        pending_deletes: list[tuple[str, dict[str, Any], bool]],
        preview: bool,
    ) -> None:
        old = state.get(urn)
        if old is None:
            old = self._adopt_alias(reg, urn, state)
        inputs, failures = host.check(urn, old["inputs"] if old else {}, news)
        if failures:
            raise EngineError(f"check of {urn} failed: {failures}", state, ops)
        if old is None:
            ops.append(("create", urn))
            if not preview:
                id_, outs = host.create(urn, inputs)
                state[urn] = self._record(reg, id_, inputs, outs)
            return
        diff = host.diff(urn, old["id"], old["outputs"], inputs, old["inputs"])
        changes = diff["changes"]
        if changes == "DIFF_UNKNOWN":  # step_generator.go: fall back to comparing inputs
            changes = "DIFF_NONE" if inputs == old["inputs"] else "DIFF_SOME"
        if diff["replaces"]:
            if old["protect"] and reg.protect:
                raise EngineError(
                    f"unable to replace resource {urn} as it is currently marked for "
                    f"protection (changes in {diff['replaces']})",
                    state,
                    ops,
                )
            ops.append(("replace", urn))
            if preview:
                return
            if diff["delete_before_replace"] or reg.delete_before_replace:
                self._delete(host, urn, old, state, ops, preview, replaced=True)
            else:
                pending_deletes.append((urn, copy.deepcopy(old), True))
            id_, outs = host.create(urn, inputs)
            state[urn] = self._record(reg, id_, inputs, outs)
        elif changes == "DIFF_NONE":
            ops.append(("same", urn))
            if not preview:  # step.go SameStep: old outputs kept, new inputs stored
                state[urn] = {
                    **old,
                    "inputs": inputs,
                    "protect": reg.protect,
                    "retain_on_delete": reg.retain_on_delete,
                }
        else:
            ops.append(("update", urn))
            if not preview:
                outs = host.update(urn, old["id"], old["outputs"], inputs, old["inputs"])
                state[urn] = {
                    **old,
                    "inputs": inputs,
                    "outputs": outs,
                    "protect": reg.protect,
                    "retain_on_delete": reg.retain_on_delete,
                }

    def _adopt_alias(self, reg: Registration, urn: str, state: State) -> dict[str, Any] | None:
        """The state of an alias of ``reg``, moved to ``urn`` (step_generator.go: a resource
        whose alias matches an old URN is that resource; the engine then diffs and updates it
        under its new URN, and the old URN is not deleted)."""
        for name in reg.aliases:
            alias = urn_for(reg.type, name, self.project, self.stack)
            if alias != urn and alias in state:
                state[urn] = state.pop(alias)
                return state[urn]
        return None

    def _delete(
        self,
        host: ProviderHost,
        urn: str,
        res: dict[str, Any],
        state: State,
        ops: Ops,
        preview: bool,
        replaced: bool = False,
    ) -> None:
        """Delete (or, when retained, only forget) a resource; ``replaced``: part of a replace."""
        if res["protect"] and not replaced:  # step.go: a protected resource is never deleted
            raise EngineError(f"unable to delete resource {urn}: it is protected", state, ops)
        retained = res["retain_on_delete"]
        if not replaced:
            ops.append(("delete(retained)" if retained else "delete", urn))
        if preview:
            return
        if not retained:
            host.delete(urn, res["id"], res["outputs"], res["inputs"])
        if state.get(urn) is res:
            del state[urn]

    @staticmethod
    def _record(
        reg: Registration, id_: str, inputs: dict[str, Any], outs: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "type": reg.type,
            "id": id_,
            "inputs": inputs,
            "outputs": outs,
            "protect": reg.protect,
            "retain_on_delete": reg.retain_on_delete,
        }
