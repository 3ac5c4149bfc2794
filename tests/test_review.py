"""Markdown reports at scale: repeated changes summarised, a hard size budget, capped and
escaped Mermaid diagrams (infra.review, infra.diagram), built from the model directly so a
10,000-line organisation takes well under a second to check."""

from __future__ import annotations

import re
from dataclasses import replace

from infra.compare import compare
from infra.describe import line_summary
from infra.diagram import Caps, capped_flowchart, escape_label, flowchart
from infra.model import Line, LinesConfig, LineType, Severity, Voicemail
from infra.review import BUDGET, diff_details, diff_markdown, plan_markdown, repeated
from tests.harness.golden import config

OLD_GREETING = "No one is available to take your call. Please leave a message after the tone."
NEW_GREETING = "No one is available to take your call. Please leave a message after the beep."
GITHUB_COMMENT_LIMIT = 65_536
MERMAID_MAX_TEXT, MERMAID_MAX_EDGES = 50_000, 500  # Mermaid's defaults (see infra/diagram.py)


def _org(
    count: int, greeting: str = OLD_GREETING, forward_base: int = 6_285_500_000
) -> LinesConfig:
    """``count`` lines as bench/generate.py shapes them: departments forwarding then voicemail,
    users with voicemail only, every one on the default greeting."""
    lines = []
    for i in range(count):
        kind = LineType.DEPARTMENT if i % 2 == 0 else LineType.USER
        forward = f"+1{forward_base + i}" if kind is LineType.DEPARTMENT else None
        lines.append(
            Line(
                id=f"line-{i}",
                name=f"Line {i}",
                type=kind,
                number=f"+1415{5500000 + i}",
                forward=forward,
                voicemail=Voicemail(greeting=greeting),
            )
        )
    return config(*lines)


def _markdown(old: LinesConfig, new: LinesConfig, details: str | None = None) -> str:
    changes = compare(old, new)
    changed = {c.line_id for c in changes}
    return diff_markdown(
        heading="### Phone line changes in `lines.yaml`",
        changes=changes,
        reasons=[],
        routed=[line for line in new.lines if line.id in changed],
        severity=Severity.MINOR,
        details=details,
    )


def test_default_greeting_change_on_10000_lines_is_one_row_under_the_budget() -> None:
    old, new = _org(10_000), _org(10_000, NEW_GREETING)
    md = _markdown(old, new, details="review/lines-diff.md")
    assert len(md) < BUDGET < GITHUB_COMMENT_LIMIT
    (row,) = [s for s in md.splitlines() if s.startswith("- **")]
    assert row == (
        '- **10,000 lines**: greeting changed: …message after the "tone." → "beep." '
        "(`line-0`, `line-1`, `line-2` and 9,997 more)"
    )
    assert "every line's detail is in `review/lines-diff.md`" in md
    # The diagram draws the examples only, and says how many lines it left out.
    assert "line_2_in" in md and "line_3_in" not in md
    assert "9,997 lines left out of this diagram" in md


def test_heterogeneous_changes_keep_per_line_detail_until_the_budget_then_count_the_rest() -> None:
    old, new = _org(10_000), _org(10_000, forward_base=6_285_600_000)  # every forward moves
    changes = compare(old, new)
    assert len(changes) == 5_000 and not repeated(changes)
    md = _markdown(old, new)
    assert len(md) < BUDGET
    shown = re.findall(r"^- \*\*`(line-\d+)`\*\* changed$", md, re.M)
    assert shown == [c.line_id for c in changes[: len(shown)]] and len(shown) > 50
    (rest,) = re.findall(r"^- … and ([\d,]+) more changed lines: (.*)\. By kind:$", md, re.M)
    assert int(rest[0].replace(",", "")) == 5_000 - len(shown)
    assert f"  - failover: {rest[0]} lines" in md
    assert (
        rest[1]
        == "for every line's detail run `failover diff` again with `--details FILE` or `--format text`"
    )


def test_a_line_with_a_repeated_and_an_own_change_keeps_its_own_and_points_to_the_summary() -> None:
    old, new = _org(20), _org(20, NEW_GREETING)
    lines = list(new.lines)
    lines[4] = replace(lines[4], forward_timeout_s=45)
    md = _markdown(old, config(*lines))
    assert "- **20 lines**: greeting changed:" in md
    entries = [s for s in md.splitlines() if s.startswith(("- **`", "  - "))]
    assert entries == [
        "- **`line-4`** changed (and 1 repeated change above)",
        '  - failover forward to +1 628-550-0004 for 20 s, then voicemail "No one is available '
        'to take your call. Please l…" → forward to +1 628-550-0004 for 45 s, then voicemail '
        '"No one is available to take your call. Please l…"',
    ]


def test_few_lines_sharing_a_change_are_still_listed_one_by_one() -> None:
    md = _markdown(_org(9), _org(9, NEW_GREETING))
    assert md.count('  - greeting changed: …message after the "tone." → "beep."') == 9
    assert "repeated" not in md


def test_removing_every_line_stays_under_the_budget_with_the_brake_reason_clipped() -> None:
    old = _org(10_000)
    new = config(old.lines[0])
    changes = compare(old, new)
    reason = "9999 line(s) removed (" + ", ".join(c.line_id for c in changes) + ")"
    md = diff_markdown(
        heading="### h",
        changes=changes,
        reasons=[reason],
        routed=[],
        severity=Severity.MINOR,
        details=None,
    )
    assert len(md) < BUDGET
    assert "> Safety brake: 9999 line(s) removed (line-1, line-2" in md
    assert "more changed lines" in md and "```mermaid" not in md


def test_plan_of_10000_lines_is_a_table_prefix_a_summary_by_failover_and_a_capped_diagram() -> None:
    org = _org(10_000)
    records = [line_summary(line, org, Severity.MINOR) for line in org.lines]
    md = plan_markdown(
        heading="## plan", records=records, lines=org.lines, severity=Severity.MINOR, details=None
    )
    assert len(md) < BUDGET
    rows = re.findall(r"^\| \*\*Line (\d+)\*\*", md, re.M)
    assert [int(r) for r in rows] == list(range(len(rows))) and len(rows) > 50
    assert f"{10_000 - len(rows):,} more lines not in this table" in md
    assert "- forward, then voicemail: 5,000 lines\n- voicemail: 5,000 lines" in md
    block = md[md.index("```mermaid") : md.rindex("```") + 3]
    assert len(block) <= Caps().chars
    assert "lines left out of this diagram" in md


def test_the_diagram_of_10000_lines_stays_below_mermaids_limits() -> None:
    org = _org(10_000)
    text = flowchart(org.lines, Severity.MINOR)
    edges = text.count("-->")
    nodes = len(re.findall(r"^  \w+\[", text, re.M))
    assert len(text) < MERMAID_MAX_TEXT and edges < MERMAID_MAX_EDGES
    caps = Caps()
    assert edges <= caps.edges and nodes <= caps.nodes and len(text) <= caps.chars


def test_caps_leave_out_whole_lines_from_the_end_and_name_them() -> None:
    org = _org(10)  # departments: 3 nodes, 2 edges; users: 2 nodes, 1 edge
    diagram = capped_flowchart(org.lines, Severity.MINOR, Caps(nodes=100, edges=4, chars=10_000))
    assert diagram.left_out == tuple(f"line-{i}" for i in range(2, 10))  # line-2 needs 2 more
    assert diagram.text.count("-->") == 3
    assert "line_1_0" in diagram.text and "line_2_in" not in diagram.text
    by_nodes = capped_flowchart(org.lines, Severity.MINOR, Caps(nodes=4, edges=100))
    assert by_nodes.left_out == tuple(f"line-{i}" for i in range(1, 10))
    by_chars = capped_flowchart(org.lines, Severity.MINOR, Caps(chars=600))
    assert len(by_chars.text) <= 600 and 0 < len(by_chars.left_out) < 10


HOSTILE = [
    '%%{init: {"securityLevel": "loose"}}%%',
    'a"] --> evil["x',
    "<img src=x onerror=alert(1)>",
    "#quot; &amp; #35;",
    "```\n## injected heading",
    "line\nbreak\u2028and\u0085more",
    "click a call alert(1); `md` [b](c) {d} |e|",
]


def _decode(label: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label)


def test_hostile_names_and_ids_cannot_break_or_inject_into_the_diagram() -> None:
    lines = [
        Line(
            id=text,
            name=text,
            type=LineType.DEPARTMENT,
            number=f"+1415555{i:04d}",
            message=text,
        )
        for i, text in enumerate(HOSTILE)
    ]
    text = flowchart(lines, Severity.MINOR)
    body = text.splitlines()
    assert body[0] == "```mermaid" and body[-1] == "```"
    assert "```" not in "\n".join(body[1:-1])
    assert "%%" not in text and "<img" not in text and "`" not in "\n".join(body[1:-1])
    statement = re.compile(
        r'  \w+\[\(?"[^"\n]*"\)?\]'  # a node: a plain id and one quoted label
        r"|  \w+ -->\|[a-z ]*\| \w+"  # an edge between plain ids, with fixed words
        r"|  classDef test stroke:#d00,stroke-width:3px|flowchart LR"
    )
    assert all(statement.fullmatch(s) for s in body[1:-1]), body
    labels = re.findall(r'"([^"]*)"', text)
    names = [_decode(label.split("<br/>")[0]) for label in labels[::2]]
    assert names == [" ".join(h.split()) for h in HOSTILE]  # shown, not interpreted
    assert len({s.split("[")[0] for s in body if "[" in s}) == 2 * len(HOSTILE)  # ids unique


def test_escape_label_keeps_ordinary_text_readable() -> None:
    assert escape_label("Sales: +1 415-555-0101, ring 20 s") == "Sales: +1 415-555-0101, ring 20 s"
    assert escape_label('say "hi" & <go> #1 50%') == ("say #34;hi#34; #38; #60;go#62; #35;1 50#37;")


def test_many_warnings_are_counted_past_their_share_of_the_budget() -> None:
    old = _org(10_000)
    started = [
        replace(line, test=True, primary="https://voice.acme.example/x", forward="+16285559999")
        for line in old.lines
    ]
    md = _markdown(old, config(*started))
    assert len(md) < BUDGET
    shown = md.count("> [!WARNING]\n> line-")
    (more,) = re.findall(r"> ([\d,]+) more warnings not shown: ", md)
    assert shown > 10 and shown + int(more.replace(",", "")) == 10_000


def test_markup_in_names_and_ids_stays_text_in_the_markdown() -> None:
    old = _org(3)
    lines = list(old.lines)
    lines[1] = replace(lines[1], name="<!-- hidden --> | `x` **y**")
    lines.append(replace(lines[2], id="a`b", number="+14155559999"))
    lines.append(replace(lines[2], id="c|d", number="+14155559998"))
    md = _markdown(old, config(*lines))
    assert "- **`line-1`** changed\n  - name 'Line 1' → '&lt;!-- hidden --&gt; \\| `x` **y**'" in md
    assert "- **``a`b``** added" in md
    org = config(*lines)
    records = [line_summary(line, org, Severity.MINOR) for line in org.lines]
    plan = plan_markdown(
        heading="## p", records=records, lines=org.lines, severity=Severity.MINOR, details=None
    )
    row = next(s for s in plan.splitlines() if "hidden" in s)
    assert row.startswith("| **&lt;!-- hidden --&gt; \\| `x` **y**** (`line-1`, user) |")
    assert row.count(" | ") == 4  # five cells: the name's bar cannot open a sixth
    bar = next(s for s in plan.splitlines() if "c\\|d" in s)
    assert bar.count(" | ") == 4 and "(`c\\|d`, department)" in bar


def test_golden_review_markdown(update_golden: bool) -> None:
    """What reviewers read, kept whole: a repeated change, heterogeneous changes, a hostile
    name, a warning and the brake; and a plan cut to a small budget."""
    from infra.safety import brake_reasons
    from tests.harness.golden import assert_golden

    old = _org(12)
    lines = list(_org(12, NEW_GREETING).lines)
    lines[4] = replace(lines[4], forward_timeout_s=45)
    lines[2] = replace(lines[2], name='Front desk "%%{init: {}}%%" <b>')
    lines[11] = replace(lines[11], id="new-desk", test=True, primary="https://voice.acme.example/n")
    new = config(*lines)
    changes = compare(old, new)
    reasons = brake_reasons(
        removed=[c.line_id for c in changes if c.kind.value == "removed"],
        rerouted=[c.line_id for c in changes if c.failover_changed],
        existing_lines=len(old.lines),
    )
    heading = "### Phone line changes in `lines.yaml`"
    changed = {c.line_id for c in changes}
    diff = diff_markdown(
        heading=heading,
        changes=changes,
        reasons=reasons,
        routed=[line for line in new.lines if line.id in changed],
        severity=Severity.MINOR,
        details="lines-diff.md",
    )
    records = [line_summary(line, new, Severity.MINOR) for line in new.lines]
    plan = plan_markdown(
        heading="## plan",
        records=records,
        lines=new.lines,
        severity=Severity.MINOR,
        details=None,
        budget=6_000,
    )
    files = {
        "diff.md": diff + "\n",
        "lines-diff.md": diff_details(heading=heading, changes=changes, reasons=reasons),
        "plan-cut.md": plan,
    }
    assert len(plan) < 6_000
    assert_golden("review-markdown", files, update_golden)


def test_kinds_of_change_read_from_compares_own_sentences() -> None:
    from infra.review import kind_of

    old = _org(4)
    a, b, c, d = old.lines
    new = config(
        replace(a, voicemail=Voicemail(greeting=NEW_GREETING)),
        replace(b, forward="+16285559999"),
        replace(c, test=True, primary="https://voice.acme.example/c"),
        replace(d, id="line-new"),
    )
    kinds = {kind_of(detail) for change in compare(old, new) for detail in change.details}
    assert kinds == {
        "greeting changed",
        "failover",
        "primary",
        "test started",
        "line added",
        "line removed",
    }
