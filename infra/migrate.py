"""Move a 0.2 stack's checkpoint to the 0.3 resource model, offline (docs/design/scale.md §9 M2).

0.2 kept one ``PhoneNumberFailover`` per line; 0.3 manages numbers in ``PhoneNumberBatch``
resources (``infra.naming.number_batch``). Removing the per-line resources in a normal
``pulumi up`` would run their delete, which *is* the restore of each number's pre-tool voice
settings; the batches would then adopt the numbers again and record this tool's own URL as
"original". So the state is moved instead, with no Twilio call: ``migrate`` rewrites a
``pulumi stack export`` checkpoint so that each line becomes a member of its batch, carrying
the line's outputs (``adopted`` originals, live values, ``applied_inputs``) and inputs
verbatim. Everything else stays: the next ``pulumi up`` updates the batches (re-pointing the
numbers to the new documents the batches depend on) and only then deletes the old flows and
the old ``failover`` environment, because Pulumi deletes removed resources after the program's
creates and updates: "During an update, Pulumi deletes resources last after running the
program" (a maintainer, https://github.com/pulumi/pulumi/issues/16589); the docs' "How Pulumi
works" says the engine looks for resources it saw no registration for "once that process is
complete and the language host has shut down" (text seen in pulumi/pulumi-hugo#3862, the
docs' source; the live page was not retrieved verbatim). Those deletes also refuse while a
number still points at the flow or environment (``StudioFlow``/``TwimlDocuments`` delete).

Checkpoint format (``pulumi stack export``, deployment version 3): ``{"version": 3,
"deployment": {"manifest", "secrets_providers", "resources": [...], "pending_operations",
"metadata"}}``, each resource ``{"urn", "custom", "delete", "id", "type", "inputs",
"outputs", "parent", "protect", "external", "dependencies", "initErrors", "provider",
"propertyDependencies", "pendingReplacement", ...}``, dependencies before dependents
(https://github.com/pulumi/pulumi/blob/master/sdk/go/common/apitype/core.go, ``DeploymentV3``
and ``ResourceV3``).

Refuses (``MigrationError``, nothing written) a checkpoint that is not a 0.2 stack, that was
already migrated, that records pending operations or an integrity error, or that holds a
``PhoneNumberFailover`` in a shape it does not understand. It never drops any other resource.

Pure (JSON in, JSON out). Must not import: pulumi, twilio, infra.providers, infra.program.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.errors import InfraError
from infra.naming import number_batch
from infra.stack import DEFAULT_CONCURRENCY

DEPLOYMENT_VERSION = 3
PREFIX = "pulumi-python:dynamic/twilio:"
OLD_TYPE = f"{PREFIX}PhoneNumberFailover"
BATCH_TYPE = f"{PREFIX}PhoneNumberBatch"
BATCH_PROVIDER = (
    "gASVSQAAAAAAAACMImluZnJhLnByb3ZpZGVycy5waG9uZV9udW1iZXJfYmF0Y2iUjBhQaG9uZU51bWJlckJhdGNo"
    "UHJvdmlkZXKUk5QpgZR9lGIu"
)
"""What ``pulumi.dynamic`` stores in ``__provider`` for ``PhoneNumberBatchProvider``: a dill
pickle by reference to ``infra.providers.phone_number_batch`` (tests check it equals a fresh
serialization, so a move of the class fails a test, not a user's ``pulumi destroy``)."""
PROVIDER_KEY = "__provider"
RESOURCE_KEYS = (PROVIDER_KEY, "line")
"""Keys of a ``PhoneNumberFailover``'s inputs and outputs that belong to the resource, not to
the line: the batch has its own provider, and the line id becomes the key in ``lines``."""
BLOCKING_FLAGS = {
    "delete": "is pending deletion from an interrupted update",
    "pendingReplacement": "is pending replacement from an interrupted update",
    "protect": "is protected (a batch cannot carry per-line protection)",
    "external": "is an external (read) resource",
}


class MigrationError(InfraError):
    """The checkpoint cannot be migrated; says why and what to do. Nothing was changed."""


@dataclass(frozen=True, slots=True)
class Migration:
    """The migrated checkpoint and what moved: batch name -> line ids (sorted)."""

    checkpoint: dict[str, Any]
    batches: dict[str, list[str]]
    kept: int
    """Resources carried over unchanged (everything but the per-line numbers)."""

    @property
    def lines(self) -> int:
        return sum(len(lines) for lines in self.batches.values())


def migrate(checkpoint: Mapping[str, Any]) -> Migration:
    """Return ``checkpoint`` (a 0.2 stack's export) with every ``PhoneNumberFailover`` moved
    into its ``PhoneNumberBatch``. The input is not modified."""
    deployment = _deployment(checkpoint)
    resources: list[dict[str, Any]] = deployment["resources"]
    olds = [r for r in resources if r.get("type") == OLD_TYPE]
    if any(r.get("type") == BATCH_TYPE for r in resources):
        raise MigrationError(
            "this stack was already migrated: its state holds PhoneNumberBatch resources. "
            "Nothing to do; run `pulumi up`"
        )
    if not olds:
        raise MigrationError(
            "not a 0.2 stack: its state holds no PhoneNumberFailover resource, so there is "
            "nothing to migrate (check --stack)"
        )
    members = _members(olds)
    batches = {name: _batch(name, lines) for name, lines in sorted(members.items())}
    renamed = {r["urn"]: batches[number_batch(line)]["urn"] for line, r in _by_line(olds).items()}
    kept = [_redirected(r, renamed) for r in resources if r.get("type") != OLD_TYPE]
    last = max(i for i, r in enumerate(resources) if r.get("type") == OLD_TYPE)
    position = sum(1 for r in resources[:last] if r.get("type") != OLD_TYPE)
    migrated = kept[:position] + list(batches.values()) + kept[position:]
    _check_order(migrated)
    out = copy.deepcopy(dict(checkpoint))
    out["deployment"] = {**out["deployment"], "resources": migrated}
    return Migration(
        checkpoint=out,
        batches={name: sorted(lines) for name, lines in sorted(members.items())},
        kept=len(kept),
    )


def _deployment(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(checkpoint, Mapping) or checkpoint.get("version") != DEPLOYMENT_VERSION:
        version = checkpoint.get("version") if isinstance(checkpoint, Mapping) else None
        raise MigrationError(
            f"not a `pulumi stack export` of deployment version {DEPLOYMENT_VERSION} "
            f"(version: {version!r}); export it with a current Pulumi CLI"
        )
    deployment = checkpoint.get("deployment")
    if not isinstance(deployment, dict) or not isinstance(deployment.get("resources"), list):
        raise MigrationError("the export has no deployment resources: not a deployed stack")
    if deployment.get("pending_operations"):
        ops = ", ".join(
            f"{op.get('type')} {op.get('resource', {}).get('urn')}"
            for op in deployment["pending_operations"]
            if isinstance(op, dict)
        )
        raise MigrationError(
            f"the stack has pending operations ({ops}) from an interrupted update. Finish "
            "them first with the 0.2 tool (`pulumi refresh`, then `pulumi up`), then migrate"
        )
    integrity = (deployment.get("metadata") or {}).get("integrity_error")
    if integrity:
        raise MigrationError(
            "the checkpoint records an integrity error; repair the stack before migrating"
        )
    return deployment


def _line_of(resource: dict[str, Any]) -> str:
    """The line id of a ``PhoneNumberFailover`` after checking it has the 0.2 shape."""
    urn = str(resource.get("urn") or "")
    name = urn.rsplit("::", 1)[-1]
    inputs, outputs = resource.get("inputs"), resource.get("outputs")
    problems = [f"{urn} {why}" for flag, why in BLOCKING_FLAGS.items() if resource.get(flag)]
    if resource.get("initErrors"):
        problems.append(f"{urn} has initialization errors from a failed update")
    if not isinstance(inputs, dict) or not isinstance(outputs, dict):
        problems.append(f"{urn} has no inputs or outputs")
    else:
        applied = outputs.get("applied_inputs")
        for key, kind in (("sid", str), ("adopted", dict), ("applied_inputs", dict)):
            if not isinstance(outputs.get(key), kind):
                problems.append(f"{urn} has no {key!r} output of the 0.2 shape")
        if not isinstance(inputs.get("phone_number"), str):
            problems.append(f"{urn} has no phone_number input")
        line = inputs.get("line") or (applied.get("line") if isinstance(applied, dict) else None)
        if line not in (None, name):
            problems.append(f"{urn} manages line {line!r}, not {name!r}")
    if problems:
        raise MigrationError(
            "cannot migrate:\n  " + "\n  ".join(problems) + "\nNothing was changed. Finish "
            "or repair the 0.2 deployment first (`pulumi refresh`, `pulumi up` with 0.2)"
        )
    return name


def _by_line(olds: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for resource in olds:
        line = _line_of(resource)
        if line in found:
            raise MigrationError(f"line {line!r} has two PhoneNumberFailover resources")
        found[line] = resource
    return found


def _members(olds: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Batch name -> line id -> that line's ``PhoneNumberFailover`` resource."""
    members: dict[str, dict[str, dict[str, Any]]] = {}
    for line, resource in _by_line(olds).items():
        members.setdefault(number_batch(line), {})[line] = resource
    for name, lines in members.items():
        for key in ("provider", "parent"):
            values = {str(r.get(key) or "") for r in lines.values()}
            if len(values) > 1:
                raise MigrationError(
                    f"lines of {name} ({', '.join(sorted(lines))}) use different {key}s "
                    f"({', '.join(sorted(values))}); one batch can have only one"
                )
    return members


def _line_props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in props.items() if k not in RESOURCE_KEYS}


def _batch(name: str, lines: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``PhoneNumberBatch`` resource holding ``lines`` exactly as their 0.2 state."""
    first = lines[min(lines)]
    head, qualified, _ = str(first["urn"]).rsplit("::", 2)
    chain = qualified.rsplit("$", 1)[0] + "$" if "$" in qualified else ""
    dependencies: list[str] = []
    for resource in lines.values():
        for dep in resource.get("dependencies") or []:
            if dep not in dependencies:
                dependencies.append(dep)
    inputs = {line: _line_props(r["inputs"]) for line, r in sorted(lines.items())}
    outputs = {line: _line_props(r["outputs"]) for line, r in sorted(lines.items())}
    batch: dict[str, Any] = {
        "urn": f"{head}::{chain}{BATCH_TYPE}::{name}",
        "custom": True,
        "id": f"numbers:{min(lines)}",  # what PhoneNumberBatchProvider.create returns
        "type": BATCH_TYPE,
        "inputs": {
            PROVIDER_KEY: BATCH_PROVIDER,
            "concurrency": DEFAULT_CONCURRENCY,
            "lines": inputs,
        },
        "outputs": {
            PROVIDER_KEY: BATCH_PROVIDER,
            "concurrency": DEFAULT_CONCURRENCY,
            "lines": outputs,
        },
        "dependencies": dependencies,
    }
    for key in ("parent", "provider"):
        if first.get(key):
            batch[key] = first[key]
    if dependencies:
        batch["propertyDependencies"] = {"lines": list(dependencies)}
    return batch


def _redirected(resource: dict[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """``resource`` with references to a moved line pointing at its batch instead."""
    urn = resource.get("urn")
    if resource.get("parent") in renamed:
        raise MigrationError(
            f"{urn} is a child of {resource['parent']}, which 0.2 never created; "
            "not migrating a state it does not understand"
        )
    out = copy.deepcopy(resource)

    def mapped(urns: Iterable[str]) -> list[str]:
        result: list[str] = []
        for dep in urns:
            dep = renamed.get(dep, dep)
            if dep not in result:
                result.append(dep)
        return result

    if out.get("dependencies"):
        out["dependencies"] = mapped(out["dependencies"])
    if isinstance(out.get("propertyDependencies"), dict):
        out["propertyDependencies"] = {
            key: mapped(deps) for key, deps in out["propertyDependencies"].items()
        }
    if out.get("deletedWith") in renamed:
        out["deletedWith"] = renamed[out["deletedWith"]]
    return out


def _check_order(resources: list[dict[str, Any]]) -> None:
    """Pulumi requires every parent, provider and dependency to come before its dependents."""
    present = {str(r.get("urn")) for r in resources}
    seen: set[str] = set()
    for resource in resources:
        refs = [resource.get("parent"), *(resource.get("dependencies") or [])]
        provider = str(resource.get("provider") or "")
        if provider:
            refs.append(provider.rsplit("::", 1)[0])
        missing = [ref for ref in refs if ref in present and ref not in seen]
        if missing:
            raise MigrationError(
                f"cannot place {resource.get('urn')} after {', '.join(missing)} in the "
                "migrated state; not migrating a state it does not understand"
            )
        seen.add(str(resource.get("urn")))
