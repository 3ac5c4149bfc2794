"""Sizes of the review reports at scale, as ratios to the limits that refuse them.

    python -m bench.review                 # 200, 1,000 and 10,000 lines (a minute or two)
    python -m bench.review --lines 200     # one size

For a default-greeting edit on a generated organisation (every line on the default greeting):
R1 ``diff --format markdown`` against GitHub's comment limit (65,536 characters) and the
``--details`` file's size; R2 ``plan --format markdown`` against the same limit; R3 the
largest Mermaid block of either against Mermaid's ``maxTextSize`` (50,000) and ``maxEdges``
(500). Sizes are exact, not timings, so one run is enough.
"""

from __future__ import annotations

import argparse
import re

from bench.generate import generate
from infra.compare import compare
from infra.describe import line_summary
from infra.lines.load import load_bytes
from infra.model import LinesConfig, Severity
from infra.review import diff_details, diff_markdown, plan_markdown

GITHUB_COMMENT_LIMIT = 65_536
MERMAID_MAX_TEXT, MERMAID_MAX_EDGES = 50_000, 500
TONE = "No one is available to take your call. Please leave a message after the tone."


def default_greeting_org(phone_lines: int) -> str:
    """``generate``'s organisation with every line on the default greeting."""
    text = generate(phone_lines * 10)
    text = re.sub(
        r'      voicemail:\n        greeting: "[^"]*"\n',
        "      voicemail: {max_length: 100}\n",
        text,
    )
    text = re.sub(r'voicemail: \{greeting: "[^"]*", ', "voicemail: {", text)
    return text.replace("max_length: 120}", f'max_length: 120, greeting: "{TONE}"}}', 1)


def _mermaid(md: str) -> tuple[int, int]:
    start = md.find("```mermaid")
    if start < 0:
        return 0, 0
    block = md[start : md.index("```\n", start + 3) + 3]
    return len(block), block.count("-->")


def figures(phone_lines: int) -> list[str]:
    text = default_greeting_org(phone_lines)
    old: LinesConfig = load_bytes(text.encode(), "old.yaml")[0]
    new: LinesConfig = load_bytes(text.replace("the tone.", "the beep.").encode(), "new.yaml")[0]
    changes = compare(old, new)
    changed = {c.line_id for c in changes}
    heading = "### Phone line changes in `lines.yaml`"
    md = diff_markdown(
        heading=heading,
        changes=changes,
        reasons=[],
        routed=[line for line in new.lines if line.id in changed],
        severity=Severity.MINOR,
        details="lines-diff.md",
    )
    details = diff_details(heading=heading, changes=changes, reasons=[])
    records = [line_summary(line, new, Severity.MINOR) for line in new.lines]
    plan = plan_markdown(
        heading="## plan", records=records, lines=new.lines, severity=Severity.MINOR, details=None
    )
    (diff_chars, diff_edges), (plan_chars, plan_edges) = _mermaid(md), _mermaid(plan)
    n = len(new.lines)
    return [
        f"R1 {n:,} lines, default-greeting diff markdown: {len(md):,} characters = "
        f"{len(md) / GITHUB_COMMENT_LIMIT:.3f}x GitHub's limit ({len(changes):,} lines changed; "
        f"--details file {len(details):,} characters)",
        f"R2 {n:,} lines, plan markdown: {len(plan):,} characters = "
        f"{len(plan) / GITHUB_COMMENT_LIMIT:.3f}x GitHub's limit",
        f"R3 {n:,} lines, largest Mermaid block: "
        f"{max(diff_chars, plan_chars) / MERMAID_MAX_TEXT:.2f}x maxTextSize, "
        f"{max(diff_edges, plan_edges) / MERMAID_MAX_EDGES:.2f}x maxEdges",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, action="append", help="phone lines (repeatable)")
    args = parser.parse_args()
    for size in args.lines or [200, 1_000, 10_000]:
        for line in figures(size):
            print(line, flush=True)


if __name__ == "__main__":
    main()
