"""Mermaid flowcharts of failover routes, for Markdown plans and pull-request comments.

GitHub renders a ```mermaid block as a diagram; a reviewer sees each line's route at a glance.
Node ids derive from line ids (unique and Mermaid-safe by the schema); labels are escaped.
Must not import: twilio, pulumi, yaml, infra.lines.load, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.describe import pretty_number, quote
from infra.model import FailoverTarget, Line, Severity, TargetKind

_EDGE_AFTER = {TargetKind.FORWARD: "no answer", TargetKind.QUEUE: "left queue"}


def _label(*parts: str) -> str:
    """A quoted Mermaid label; user text is escaped, parts are joined with line breaks."""
    escaped = (p.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for p in parts)
    return '"' + "<br/>".join(escaped) + '"'


def _node_id(line: Line, suffix: str) -> str:
    return f"{line.id.replace('-', '_')}_{suffix}"


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


def flowchart(lines: Iterable[Line], severity: Severity) -> str:
    """A complete ```mermaid block for the given lines (test-mode lines outlined in red)."""
    body = ["```mermaid", "flowchart LR"]
    for line in lines:
        body.extend(line_routes(line, severity))
    body.append("  classDef test stroke:#d00,stroke-width:3px")
    body.append("```")
    return "\n".join(body)
