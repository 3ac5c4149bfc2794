"""``renamed_from``: each earlier id is no line's id any more and is claimed by one line only
(a check of ``infra.lines.checks``, kept here so that module stays readable).

Must not import: twilio, pulumi, jsonschema, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Iterator

from infra.errors import Diagnostic
from infra.lines.context import Context


def check_renames(ctx: Context) -> Iterator[Diagnostic]:
    """``renamed_from`` names ids that no line has any more, each claimed by one line."""
    live = {str(line.get("id")) for _, line in ctx.lines() if isinstance(line.get("id"), str)}
    claimed: dict[str, str] = {}
    for index, line in ctx.lines():
        for position, old in enumerate(line.get("renamed_from") or ()):
            if not isinstance(old, str):
                continue
            where = ("lines", index, "renamed_from", position)
            if old == line.get("id"):
                yield ctx.error(
                    where, f'line "{old}" cannot be renamed from itself; remove "{old}" here'
                )
            elif old in live:
                yield ctx.error(
                    where,
                    f'"{old}" is still the id of a line, so this line cannot have been renamed '
                    f'from it; remove "{old}" here, or rename that line',
                )
            elif old in claimed:
                yield ctx.error(
                    where,
                    f'line "{claimed[old]}" already says it was renamed from "{old}"; one '
                    "number cannot move to two lines: keep it in one of them",
                )
            else:
                claimed[old] = str(line.get("id"))
