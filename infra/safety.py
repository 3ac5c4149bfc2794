"""The safety brake: refuse a change that reroutes too many lines or removes any, unless allowed.

After octoDNS's plan thresholds: a typo in a shared default, or a bad merge, should not
silently reroute every phone line of a company. Shared by ``failover diff`` and the
Pulumi program so both stop at the same point.
Must not import: twilio, pulumi, yaml, infra.load, infra.providers, infra.cli.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.compare import ChangeKind, LineChange

DEFAULT_MAX_CHANGE_SHARE = 0.30
MIN_LINES_FOR_SHARE = 10
"""Below this many existing lines the share rule does not apply (octoDNS uses 10 records)."""


@dataclass(frozen=True, slots=True)
class Brake:
    """The limits in force for one run."""

    max_change_share: float = DEFAULT_MAX_CHANGE_SHARE
    allow_removals: bool = False


def brake_reasons(
    changes: list[LineChange], existing_lines: int, brake: Brake = Brake()
) -> list[str]:
    """Why this change is unsafe; empty when it may go ahead."""
    reasons: list[str] = []
    removed = [c.line_id for c in changes if c.kind is ChangeKind.REMOVED]
    if removed and not brake.allow_removals:
        reasons.append(
            f"{len(removed)} line(s) removed ({', '.join(removed)}); their numbers would be restored to "
            "their earlier settings. Allow removals for this run if that is intended"
        )
    rerouted = [
        c.line_id
        for c in changes
        if c.kind is ChangeKind.CHANGED and c.failover_changed and c.line_id != "*"
    ]
    if existing_lines >= MIN_LINES_FOR_SHARE and rerouted:
        share = len(rerouted) / existing_lines
        if share > brake.max_change_share:
            reasons.append(
                f"{len(rerouted)} of {existing_lines} lines ({share:.0%}) change their failover, more than the "
                f"{brake.max_change_share:.0%} limit; raise the limit or force this run if that is intended"
            )
    if any(c.line_id == "*" for c in changes):
        reasons.append(
            "the account name changes, which recreates every Twilio-side resource; force this run if intended"
        )
    return reasons
