"""The safety brake: refuse a change that reroutes too many lines or removes any, unless allowed.

After octoDNS's plan thresholds: a typo in a shared default, or a bad merge, should not
silently reroute every phone line of a company. One rule, two callers: ``failover diff``
(pull-request review) and the Pulumi program's ``LineLedger`` resource, whose ``check``
sees the previous run's lines. Pure arithmetic on line ids, so both can use it.
Must not import: anything else in infra; twilio, pulumi, yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MAX_CHANGE_SHARE = 0.30
MIN_LINES_FOR_SHARE = 10
"""Below this many existing lines the share rule does not apply (octoDNS uses 10 records)."""


@dataclass(frozen=True, slots=True)
class Brake:
    """The limits in force for one run."""

    max_change_share: float = DEFAULT_MAX_CHANGE_SHARE
    allow_removals: bool = False
    force: bool = False
    """Ignore the share limit (removals still need ``allow_removals``)."""


def brake_reasons(
    *,
    removed: Sequence[str],
    rerouted: Sequence[str],
    existing_lines: int,
    brake: Brake = Brake(),
    account_renamed: bool = False,
    removal_hint: str = "allow removals for this run",
    force_hint: str = "raise the limit or force this run",
) -> list[str]:
    """Why this change is unsafe; empty when it may go ahead. Hints name the caller's switches."""
    reasons: list[str] = []
    if removed and not brake.allow_removals:
        reasons.append(
            f"{len(removed)} line(s) removed ({', '.join(sorted(removed))}); their numbers would be "
            f"restored to their earlier settings. If that is intended, {removal_hint}"
        )
    if not brake.force and existing_lines >= MIN_LINES_FOR_SHARE and rerouted:
        share = len(rerouted) / existing_lines
        if share > brake.max_change_share:
            reasons.append(
                f"{len(rerouted)} of {existing_lines} lines ({share:.0%}) change their failover, more "
                f"than the {brake.max_change_share:.0%} limit. If that is intended, {force_hint}"
            )
    if account_renamed and not brake.force:
        reasons.append(
            f"the account name changes, which recreates every Twilio-side resource. If that is intended, {force_hint}"
        )
    return reasons
