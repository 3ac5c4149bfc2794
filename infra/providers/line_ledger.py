"""LineLedger: remembers each line's route between runs and applies the safety brake.

A Pulumi program cannot see what the previous run deployed; a resource's ``check(olds,
news)`` can. The ledger's inputs are one fingerprint per line (who answers on failure,
not the words spoken); its ``check`` compares them with the previous run's and fails, naming
the lines and the stack config key that allows it, when lines are removed or too many are
rerouted. Every other resource depends on the ledger, so a tripped brake stops the run
before anything changes in Twilio, in ``pulumi preview`` as in ``pulumi up``.

It also records when each line's failover was deployed (``deployed_at``: line id → UTC time
of the ``create``/``update`` that first stored the line's current ``failovers`` fingerprint,
which leaves out test mode and the primary), so ``failover diff --deployed`` can apply the
24-hour rule before a test starts (``infra.expiry``). State written before this existed has
no ``failovers``: those lines' times stay unknown (no warning) until their failover changes.

Makes no Twilio calls and holds nothing secret. Module path and class names are stored in
Pulumi state: never rename them without an alias.
Must not import: twilio, infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from infra.naming import number_batch
from infra.providers._pickling import init_resource
from infra.safety import DEFAULT_MAX_CHANGE_SHARE, Brake, brake_reasons

LEDGER_ID = "lines"
TRACKED = ("account", "routes")
"""Inputs whose change is a real change; the brake switches, ``renamed`` and ``homes`` are
per-run and never diffed (``check`` reads the previous run's ``homes`` from its stored
inputs)."""


def _routes(props: dict[str, Any], key: str = "routes") -> dict[str, str]:
    routes = props.get(key)
    return dict(routes) if isinstance(routes, dict) else {}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _deployed_at(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, str]:
    """Per line of ``news``: when its current failover was first deployed. A new line, or one
    whose failover fingerprint changed, is deployed now; an unchanged one keeps its time; a
    line from state without fingerprints (older versions) stays unknown (absent)."""
    now = _now()
    before, after = _routes(olds, "failovers"), _routes(news, "failovers")
    known_lines, times = _routes(olds), _routes(olds, "deployed_at")
    out: dict[str, str] = {}
    for line, fingerprint in after.items():
        if line in before and before[line] == fingerprint:
            if line in times:
                out[line] = times[line]
        elif line in before or line not in known_lines:
            out[line] = now
    return dict(sorted(out.items()))


def _outputs(props: dict[str, Any], deployed_at: dict[str, str]) -> dict[str, Any]:
    out = {key: props.get(key) for key in TRACKED}
    out["failovers"] = _routes(props, "failovers")
    out["deployed_at"] = deployed_at
    return out


def _same_formula(before: object, after: object) -> bool:
    """Fingerprints made by the same formula (``infra.routing.FINGERPRINT_VERSION`` prefix).

    Upgrading from 0.2 changes every fingerprint without rerouting anything, so a change of
    formula is not counted; removals are still counted. Run the first ``up`` after an upgrade
    with an unchanged lines.yaml (README "Upgrading")."""

    def version(value: object) -> str:
        text = str(value)
        return text.split(":", 1)[0] if ":" in text else ""

    return version(before) == version(after)


def _carried(before: dict[str, str], after: dict[str, str], renamed: object) -> dict[str, str]:
    """old id -> new id, for lines renamed since the previous run (same rule as the number
    batches, ``phone_number_batch.renames``: the most recent earlier id that was live)."""
    if not isinstance(renamed, dict):
        return {}
    carried: dict[str, str] = {}
    for new, earlier in sorted(renamed.items()):
        if new in before or new not in after or not isinstance(earlier, list):
            continue
        held = [old for old in earlier if old in before and old not in after]
        if held and held[-1] not in carried:
            carried[held[-1]] = new
    return carried


def _homes(props: dict[str, Any]) -> dict[str, str]:
    homes = props.get("homes")
    return {str(k): str(v) for k, v in homes.items()} if isinstance(homes, dict) else {}


def _moved_homes(
    before: dict[str, str],
    after: dict[str, str],
    carried: dict[str, str],
    old_homes: dict[str, str],
    new_homes: dict[str, str],
) -> list[str]:
    """Lines whose number's record would change ``PhoneNumberBatch``: a line's batch is chosen
    by its oldest id (``renamed_from[0]``, its "home"), and a batch that loses a line restores
    its number while another adopts it again, recording this tool's own URL as the original.
    That happens when the oldest id is dropped from ``renamed_from`` (or ``renamed_from`` is
    removed) while the stack is deployed; it is refused, naming the id to keep first."""
    came_from = {new: old for old, new in carried.items()}
    problems = []
    for line in sorted(after):
        source = came_from.get(line, line)
        if source not in before:
            continue  # a new line: adopted, nothing recorded elsewhere
        was, now = old_homes.get(source, source), new_homes.get(line, line)
        if number_batch(was) != number_batch(now):
            problems.append(
                f"{line}: its number's record is kept under its first id {was!r} "
                f"({number_batch(was)}); as written it would move to {number_batch(now)}, which "
                "restores the number and adopts it again. Keep "
                f"`renamed_from: [{was}, ...]` (the oldest id first) on {line} in lines.yaml"
            )
    return problems


def _rename_hints(removed: list[str], before: dict[str, str], after: dict[str, str]) -> list[str]:
    """A removed line and an added one with the same fingerprint (same number, same routes)
    look like an undeclared rename, which would restore the number and adopt it again."""
    added = {route: line for line, route in after.items() if line not in before}
    return [
        f"{added[before[old]]} looks like a rename of {old} (same number and failover): add "
        f"`renamed_from: [{old}]` to {added[before[old]]} in lines.yaml so its number is updated "
        "in place instead of restored and adopted again"
        for old in sorted(removed)
        if before[old] in added
    ]


class LineLedgerProvider(ResourceProvider):
    """Pure: stores its inputs as outputs; ``check`` applies the brake."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        before, after = _routes(olds), _routes(news)
        if not before:
            return CheckResult(news, [])
        # A renamed line (``renamed_from``) is not a removal: its route is compared under
        # its new id with the route its earliest held id had.
        carried = _carried(before, after, news.get("renamed"))
        moved = _moved_homes(before, after, carried, _homes(olds), _homes(news))
        before = {carried.get(line, line): route for line, route in before.items()}
        brake = Brake(
            max_change_share=float(news.get("max_change_share", DEFAULT_MAX_CHANGE_SHARE)),
            allow_removals=bool(news.get("allow_removals", False)),
            force=bool(news.get("force", False)),
        )
        removed = [line for line in before if line not in after]
        reasons = brake_reasons(
            removed=removed,
            rerouted=[
                line
                for line in after
                if line in before
                and before[line] != after[line]
                and _same_formula(before[line], after[line])
            ],
            existing_lines=len(before),
            brake=brake,
            account_renamed=bool(olds.get("account"))
            and olds.get("account") != news.get("account"),
            removal_hint=(
                "run once with `pulumi up --config failover:allowRemovals=true`, "
                "then `pulumi config rm failover:allowRemovals`"
            ),
            force_hint=(
                "run once with `pulumi up --config failover:force=true` (or raise "
                "failover:maxChangeShare), then remove the setting"
            ),
        )
        if removed and reasons:
            reasons += _rename_hints(removed, before, after)
        failures = [CheckFailure("routes", f"safety brake: {r}") for r in reasons]
        failures += [CheckFailure("renamed", m) for m in moved]  # never allowed: no switch
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in TRACKED if olds.get(key) != news.get(key)]
        # A failover fingerprint change always changes ``routes`` too; only the first run
        # after an upgrade (no fingerprints stored yet) updates for them alone.
        if "failovers" in news and "failovers" not in olds:
            changed.append("failovers")
        return DiffResult(
            changes=bool(changed), replaces=[], stables=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(LEDGER_ID, _outputs(props, _deployed_at({}, props)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, _outputs(props, _routes(props, "deployed_at")))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_outputs(news, _deployed_at(olds, news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Deleting the ledger only forgets; it touches nothing in Twilio."""


class LineLedger(pulumi.dynamic.Resource, module="failover", name="LineLedger"):
    """One per stack: every line's route fingerprint, checked against the previous run."""

    routes: pulumi.Output[dict[str, str]]
    deployed_at: pulumi.Output[dict[str, str]]
    """Line id → UTC time (``YYYY-MM-DDTHH:MM:SSZ``) its current failover was deployed."""

    def __init__(
        self,
        name: str,
        *,
        account: str,
        routes: dict[str, str],
        failovers: dict[str, str] | None = None,
        max_change_share: float = DEFAULT_MAX_CHANGE_SHARE,
        allow_removals: bool = False,
        force: bool = False,
        renamed: dict[str, list[str]] | None = None,
        homes: dict[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "account": account,
            "routes": routes,
            "failovers": failovers or {},
            "max_change_share": max_change_share,
            "allow_removals": allow_removals,
            "force": force,
        }
        if renamed:  # per run, like the brake switches: never diffed
            props["renamed"] = renamed
        if homes:  # line id -> the id choosing its batch, for lines not under their own id
            props["homes"] = homes
        init_resource(self, LineLedgerProvider(), name, props, ("deployed_at",), opts)
