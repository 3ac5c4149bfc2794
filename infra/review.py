"""Markdown reports that fit where reviewers read them, at any number of lines.

``diff``/``plan --format markdown`` are posted as pull-request comments, and GitHub refuses a
comment body over 65,536 characters: its API answers 422 "Body is too long (maximum is 65536
characters)" (quoted from the API's answer in https://github.com/telia-oss/github-pr-resource/issues/259;
GitHub's REST docs page for comments, https://docs.github.com/rest/issues/comments, was not
read here). Before this module a default-greeting edit of bench/generate.py's organisation gave
a 66,384-character diff at 200 lines and 3,440,186 at 10,000 (plan: 91,381 and 4,708,581). So:

- a change repeated on many lines (the same sentence from ``compare``: same field, same
  before → after) is one row naming how many lines and a few of them;
- per-line detail is kept for small and heterogeneous changes, in order, while it fits;
- the whole report stays under ``BUDGET`` characters, saying how many lines it left out and
  where the full detail is (``--details FILE``, or the text format, which is never cut);
- the Mermaid diagram gets what is left, within ``infra.diagram.Caps``.

Everything here is generic over ``compare``'s sentences: it groups equal strings, so new kinds
of change are summarised without changes here; only the tally of lines left out reads a
sentence's first words (``kind_of``), and an unknown sentence still counts, under its first word.
Must not import: twilio, pulumi, yaml, infra.lines.load, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infra.compare import LineChange
from infra.describe import pretty_number
from infra.diagram import Caps, capped_flowchart
from infra.model import Line, Severity

BUDGET = 60_000
"""Most characters a Markdown report may hold (GitHub's comment limit is 65,536)."""
GROUP_MIN = 10
"""A change sentence shared by this many lines is summarised in one row."""
EXAMPLES = 3
"""Line ids named in a summary row before "and N more"."""
ITEM_MAX = 1_000
"""Longest single sentence shown; longer ones are clipped (the details file has them whole)."""
WARNINGS_MAX = 6_000
"""Characters of warnings shown before the rest are counted."""
_NOTE_RESERVE = 600  # the closing notes ("N lines not shown …") always fit


def md_text(text: str, limit: int = ITEM_MAX) -> str:
    """Free text for Markdown: one line, no HTML (a ``<today>`` would vanish as a tag),
    table-safe, clipped to ``limit`` characters."""
    flat = " ".join(text.split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = flat.replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    flat = " ".join(text.split())
    run = longest = 0
    for ch in flat:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def count(n: int, noun: str = "line") -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


@dataclass(frozen=True, slots=True)
class Repeated:
    """One change sentence and the lines it applies to, in report order."""

    detail: str
    line_ids: tuple[str, ...]


def repeated(changes: Sequence[LineChange], min_lines: int = GROUP_MIN) -> list[Repeated]:
    """Sentences that ``min_lines`` or more lines share, in order of first appearance."""
    seen: dict[str, list[str]] = {}
    for change in changes:
        for detail in dict.fromkeys(change.details):
            seen.setdefault(detail, []).append(change.line_id)
    return [Repeated(d, tuple(ids)) for d, ids in seen.items() if len(ids) >= min_lines]


def _examples(ids: Sequence[str]) -> str:
    shown = ", ".join(code(i) for i in ids[:EXAMPLES])
    rest = len(ids) - EXAMPLES
    return shown + (f" and {rest:,} more" if rest > 0 else "")


def change_entry(change: LineChange, skip: frozenset[str] = frozenset()) -> list[str]:
    """The Markdown bullet of one line's change; sentences in ``skip`` are summarised above."""
    shown = [d for d in change.details if d not in skip]
    head = f"- **{code(change.line_id)}** {change.kind.value}"
    folded = len(change.details) - len(shown)
    if folded:
        head += f" (and {count(folded, 'repeated change')} above)"
    return [head, *(f"  - {md_text(d)}" for d in shown)]


def _size(block: Sequence[str]) -> int:
    return sum(len(s) + 1 for s in block)


def _warnings(changes: Sequence[LineChange], where: str) -> list[str]:
    out: list[str] = []
    every = [w for c in changes for w in c.warnings]
    for index, warning in enumerate(every):
        block = ["", f"> [!WARNING]\n> {md_text(warning)}"]
        if _size(out) + _size(block) > WARNINGS_MAX:
            rest = len(every) - index
            out += ["", f"> [!WARNING]\n> {count(rest, 'more warning')} not shown: {where}"]
            break
        out += block
    return out


def details_hint(command: str, details: str | None) -> str:
    """Where the full per-line detail is, as a clause."""
    if details:
        return f"every line's detail is in {code(details)}"
    return f"for every line's detail run {code(command)} again with `--details FILE` or `--format text`"


def _see(command: str, details: str | None) -> str:
    """Where every line is, as a noun: the details file, or the command that writes one."""
    return code(details) if details else f"{code(command)} with `--details FILE`"


def diff_markdown(
    *,
    heading: str,
    changes: Sequence[LineChange],
    reasons: Sequence[str],
    routed: Sequence[Line],
    severity: Severity,
    details: str | None,
    command: str = "failover diff",
    budget: int = BUDGET,
) -> str:
    """The pull-request comment of ``failover diff``: within ``budget`` at any size."""
    where = details_hint(command, details)
    groups = repeated(changes)
    skip = frozenset(g.detail for g in groups)
    top = [heading, ""]
    if not changes:
        top.append("No line changes its failover.")
    if groups:
        top += [
            f"- **{count(len(g.line_ids))}**: {md_text(g.detail)} ({_examples(g.line_ids)})"
            for g in groups
        ]
        top += ["", f"Each change above is repeated on many lines; {where}.", ""]
    bottom = _warnings(changes, where)
    bottom += [f"\n> [!CAUTION]\n> Safety brake: {md_text(r, 2 * ITEM_MAX)}" for r in reasons]
    diagram_room = _diagram_share(budget) + _NOTE_RESERVE if routed else 0
    room = budget - _size(top) - _size(bottom) - diagram_room - _NOTE_RESERVE
    entries: list[str] = []
    left: list[LineChange] = []
    featured = {i for g in groups for i in g.line_ids[:EXAMPLES]}  # drawn for their group
    for change in changes:
        entry = change_entry(change, skip)
        if len(entry) == 1 and skip.issuperset(change.details):
            continue  # every sentence of this line is in a summary row
        if left or _size(entries) + _size(entry) > room:
            left.append(change)
            continue
        entries += entry
        featured.add(change.line_id)
    if left:
        entries.append(f"- … and {count(len(left), 'more changed line')}: {where}. By kind:")
        entries += [f"  - {md_text(kind)}: {count(n)}" for kind, n in _kinds(left, skip)]
    out = top + entries + bottom
    if routed:
        drawn = [line for line in routed if line.id in featured]
        out += ["", f"Routes after this change (severity `{severity.value}`):", ""]
        room = budget - _size(out) - _NOTE_RESERVE
        out += _diagram(drawn, severity, room, "`failover plan`", len(routed) - len(drawn))
    return _tidy(out)


def kind_of(detail: str) -> str:
    """What a change sentence is about, from its first words: ``greeting changed``,
    ``line added``, ``failover``, ``agent`` … (the words before a colon when they are few)."""
    head, colon, _ = detail.partition(":")
    words = head.split()
    return head.strip() if colon and 0 < len(words) <= 3 else (words[0] if words else "")


def _kinds(changes: Sequence[LineChange], skip: frozenset[str]) -> list[tuple[str, int]]:
    """How many of ``changes`` change each kind of thing, most first (at most 10 kinds)."""
    tally: dict[str, int] = {}
    for change in changes:
        for kind in dict.fromkeys(kind_of(d) for d in change.details if d not in skip):
            tally[kind] = tally.get(kind, 0) + 1
    return sorted(tally.items(), key=lambda item: -item[1])[:10]


def _diagram_share(budget: int) -> int:
    """Characters kept for the diagram: its cap, or a third of a small budget."""
    return min(Caps().chars, budget // 3)


def _diagram(
    lines: Sequence[Line], severity: Severity, room: int, where: str, unlisted: int = 0
) -> list[str]:
    """The capped diagram and, when lines are missing from it, how many and where they are;
    ``unlisted`` lines were left out before (only examples of a repeated change are drawn)."""
    chars = min(Caps().chars, room)
    diagram = capped_flowchart(lines, severity, Caps(chars=max(chars, 0)))
    out = [diagram.text]
    missing = len(diagram.left_out) + unlisted
    if missing:
        why = "a repeated change is drawn for a few of its lines" if unlisted else ""
        if diagram.left_out:
            why += (" and " if why else "") + "a diagram stays within Mermaid's limits"
        out += ["", f"{count(missing)} left out of this diagram ({why}): see {where}."]
    return out


def _tidy(out: list[str]) -> str:
    """Join, with never more than one blank line in a row."""
    kept = [s for i, s in enumerate(out) if s or i == 0 or out[i - 1]]
    return "\n".join(kept)


def diff_details(*, heading: str, changes: Sequence[LineChange], reasons: Sequence[str]) -> str:
    """Every line's change in full, for ``--details FILE`` (no summary, no limit)."""
    out = [heading, ""]
    for change in changes:
        out += [f"- **{code(change.line_id)}** {change.kind.value}"]
        out += [f"  - {md_text(d, 1 << 20)}" for d in change.details]
    out += [f"\n> [!WARNING]\n> {md_text(w, 1 << 20)}" for c in changes for w in c.warnings]
    out += [f"\n> [!CAUTION]\n> Safety brake: {md_text(r, 1 << 20)}" for r in reasons]
    return "\n".join(out) + "\n"


# --- plan --------------------------------------------------------------------------------

TABLE_HEAD = [
    "| Line | Number | Normally | When the primary fails | Test |",
    "| --- | --- | --- | --- | --- |",
]


def plan_row(record: dict[str, Any], limit: int = ITEM_MAX) -> str:
    test = (
        f"❌ {record.get('test_state', 'test mode')}"
        if record["test"]
        else "❌ queue test"
        if record.get("queue_test")
        else ""
    )
    ident = code(record["id"]).replace("|", "\\|")  # a bar splits a cell even in code
    failure = record["on_failure"] + (f"; SMS: {record['sms']}" if record.get("sms") else "")
    return (
        f"| **{md_text(record['name'], limit)}** ({ident}, {record['type']}) "
        f"| {pretty_number(record['number'])} | {md_text(record['normally'], limit)} "
        f"| {md_text(failure, limit)} | {test} |"
    )


def _shapes(records: Sequence[dict[str, Any]]) -> list[str]:
    """How many lines fail over each way (step kinds only), most common first."""
    tally: dict[str, int] = {}
    for record in records:
        shape = ", then ".join(step["kind"] for step in record["failover"])
        tally[shape] = tally.get(shape, 0) + 1
    ranked = sorted(tally.items(), key=lambda item: -item[1])
    return [f"- {md_text(shape)}: {count(n)}" for shape, n in ranked]


def plan_markdown(
    *,
    heading: str,
    records: Sequence[dict[str, Any]],
    lines: Sequence[Line],
    severity: Severity,
    details: str | None,
    budget: int = BUDGET,
) -> str:
    """``failover plan --format markdown``: the table while it fits, then a summary by kind of
    failover; the diagram gets what is left."""
    where = details_hint("failover plan", details)
    out = [heading, "", *TABLE_HEAD]
    room = budget - _size(out) - _diagram_share(budget) - 3 * _NOTE_RESERVE
    rows: list[str] = []
    for record in records:
        row = plan_row(record)
        if _size(rows) + len(row) + 1 > room:
            break
        rows.append(row)
    out += rows
    left = len(records) - len(rows)
    if left:
        out += [
            "",
            f"{count(left, 'more line')} not in this table: {where}. Every line by failover:",
        ]
        out += _shapes(records)[:20]
    out += [""]
    seen = "the table above" if not left else _see("failover plan", details)
    out += _diagram(lines, severity, budget - _size(out) - _NOTE_RESERVE, seen)
    out += [""]
    return "\n".join(out)


def plan_details(*, heading: str, records: Sequence[dict[str, Any]]) -> str:
    """Every line's row, for ``plan --details FILE`` (no limit)."""
    return "\n".join([heading, "", *TABLE_HEAD, *(plan_row(r, 1 << 20) for r in records)]) + "\n"
