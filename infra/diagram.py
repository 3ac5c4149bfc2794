"""Mermaid flowcharts of failover routes, for Markdown plans and pull-request comments.

GitHub renders a ```mermaid block as a diagram; a reviewer sees each line's route at a glance.
A diagram stays well below Mermaid's own limits: it refuses more than ``maxEdges`` edges
(default 500, https://mermaid.js.org/config/schema-docs/config-properties-maxedges.html) and
more than ``maxTextSize`` characters (default 50,000,
https://mermaid.js.org/config/schema-docs/config-properties-maxtextsize.html), which a
200-line plan already reached. Whole lines are left out past ``Caps``, and the caller is told
how many, to say so next to the diagram. All text from lines.yaml (ids, names, numbers,
greetings) is escaped, so it can neither break the diagram nor inject directives into it.
Must not import: twilio, pulumi, yaml, infra.lines.load, infra.providers, infra.cli.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from infra.describe import pretty_number, quote
from infra.model import FailoverTarget, Line, Severity, TargetKind

_EDGE_AFTER = {TargetKind.FORWARD: "no answer", TargetKind.QUEUE: "left queue"}
_SAFE_ID = re.compile(r"[a-z0-9-]+")
# Label characters kept as they are; everything else becomes a Mermaid entity code ``#NNN;``
# (decimal code point; https://mermaid.js.org/syntax/flowchart.html, "Entity codes to escape
# characters"). That covers what could end the label or the statement (" ] ) ; |), start a
# directive or comment (%%), HTML or an entity (< > & #), a Markdown string or the enclosing
# code fence (`), and line breaks of any kind.
_LABEL_SAFE = re.compile(r"[\w .,:/+\-@'!?=$~*…→·]")


@dataclass(frozen=True, slots=True)
class Caps:
    """How large one diagram may grow; the defaults keep far below Mermaid's limits and stay
    readable in a pull request."""

    nodes: int = 200
    edges: int = 200
    chars: int = 20_000


@dataclass(frozen=True, slots=True)
class Diagram:
    """A rendered ```mermaid block and the ids of the lines it left out (in input order)."""

    text: str
    left_out: tuple[str, ...]


def escape_label(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label: every risky character as an entity code."""
    flat = " ".join(text.split())  # newlines, tabs, U+2028 … become one space
    return "".join(ch if _LABEL_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in flat)


def _label(*parts: str) -> str:
    """A quoted Mermaid label; user text is escaped, parts are joined with line breaks."""
    return '"' + "<br/>".join(escape_label(p) for p in parts) + '"'


def node_prefix(line_id: str) -> str:
    """A Mermaid node id for a line: readable for schema-valid ids (``main-line`` →
    ``main_line``), a digest for anything else, so no id can carry syntax."""
    if _SAFE_ID.fullmatch(line_id):
        return line_id.replace("-", "_")
    return "line_" + hashlib.sha256(line_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _node_id(line: Line, suffix: str) -> str:
    return f"{node_prefix(line.id)}_{suffix}"


def _step_label(step: FailoverTarget) -> tuple[str, str]:
    if step.kind is TargetKind.FORWARD:
        return f"ring {pretty_number(step.to)}", f"{step.timeout_s} s"
    if step.kind is TargetKind.QUEUE:
        return "call queue", f"up to {step.timeout_s} s"
    if step.kind is TargetKind.VOICEMAIL:
        return "voicemail", quote(step.text, 32)
    if step.kind is TargetKind.URL:
        return "secondary server", step.to
    return "message, hang up", quote(step.text, 32)


def _shape(node: str, step: FailoverTarget) -> str:
    label = _label(*_step_label(step))
    return f"{node}[({label})]" if step.kind is TargetKind.VOICEMAIL else f"{node}[{label}]"


def line_routes(line: Line, severity: Severity) -> list[str]:
    """Mermaid statements for one line: number → step → step …"""
    start = _node_id(line, "in")
    out = [f"  {start}[{_label(line.display_name, pretty_number(line.number))}]"]
    if line.test:
        out.append(f"  class {start} test")
    previous, edge = start, "primary fails"
    for index, step in enumerate(line.failover_chain(severity)):
        node = _node_id(line, str(index))
        out.append(f"  {_shape(node, step)}")
        out.append(f"  {previous} -->|{edge}| {node}")
        previous, edge = node, _EDGE_AFTER.get(step.kind, "")
    return out


_HEAD = ["```mermaid", "flowchart LR"]
_TAIL = ["  classDef test stroke:#d00,stroke-width:3px", "```"]


def capped_flowchart(lines: Iterable[Line], severity: Severity, caps: Caps = Caps()) -> Diagram:
    """A complete ```mermaid block of as many whole lines as fit ``caps``, in order; the rest
    are named in ``left_out`` (test-mode lines outlined in red)."""
    body = list(_HEAD)
    used = sum(len(s) + 1 for s in _HEAD + _TAIL)
    nodes = edges = 0
    left_out: list[str] = []
    for line in lines:
        if left_out:  # keep the diagram a prefix of the list, so "left out" is easy to read
            left_out.append(line.id)
            continue
        statements = line_routes(line, severity)
        steps = len(line.failover_chain(severity))
        size = sum(len(s) + 1 for s in statements)
        if nodes + steps + 1 > caps.nodes or edges + steps > caps.edges or used + size > caps.chars:
            left_out.append(line.id)
            continue
        body.extend(statements)
        nodes, edges, used = nodes + steps + 1, edges + steps, used + size
    body.extend(_TAIL)
    return Diagram("\n".join(body), tuple(left_out))


def flowchart(lines: Iterable[Line], severity: Severity) -> str:
    """A complete ```mermaid block for the given lines, within the default ``Caps``."""
    return capped_flowchart(lines, severity).text
