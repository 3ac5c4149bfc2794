"""How the YAML text is parsed so positions are the ones editors show.

- U+2028, U+2029 and U+0085 are line breaks to YAML 1.1 but not to editors: they are
  replaced by spaces before parsing (``editor_lines``) and reported when inside a value.
- An alias keeps its own position (``AliasAwareLoader``).
- Parser errors about block structure say "indentation" (``yaml_problem``).
- ``yaml11_reading`` explains what YAML 1.1 would have made of a plain scalar.
Must not import: jsonschema, twilio, pulumi, anything in infra except errors and lines.text.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import yaml
from yaml.composer import Composer

from infra.errors import Diagnostic, Level, SourceRef
from infra.lines.text import char_name

BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def yaml11_reading(node: yaml.Node) -> str:
    """What YAML 1.1 would have made of a plain scalar this reader keeps as text, in words.

    ``""`` for anything else. Used to explain why e.g. ``timeout: 030`` is not a number here.
    """
    if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
        return ""
    text = node.value
    if node.tag == BOOL:
        meaning = "true" if text.lower() in ("yes", "y", "on") else "false"
        return (
            f"YAML 1.1 reads {text} as {meaning}, so this file keeps it as text; "
            f'write {meaning} for the boolean, or "{text}" in quotes for the text'
        )
    if node.tag == INT:
        digits = text.lstrip("+-")
        if "_" in text:
            return (
                f"{text} has an underscore; write the number without it ({text.replace('_', '')})"
            )
        if ":" in text:
            return f"YAML 1.1 reads {text} as a base-60 number; write the plain number, or quote it"
        if digits[:2].lower() in ("0x", "0b"):
            return f"{text} is not a decimal number; write it in decimal digits"
        if digits.startswith("0"):
            value = int(digits, 8) if set(digits) <= set("01234567") else None
            octal = f" as the octal number {value}" if value is not None else ""
            return (
                f"{text} has a leading zero, which YAML 1.1 reads{octal}; "
                f"write {int(digits, 10)} without the leading zero"
            )
    if node.tag == FLOAT:
        return f"YAML 1.1 reads {text} as a number in an unusual form; write a plain number"
    if node.tag == TIMESTAMP:
        return f'YAML 1.1 reads {text} as a date; this file keeps it as the text "{text}"'
    return ""


class AliasAwareLoader(BaseLoader):
    """The same parser, composed in Python so each alias keeps its own position.

    libyaml's composer returns the anchored node itself for ``*name``, so a line repeated
    through an alias would be reported at the anchor. Here an alias yields a shallow copy
    of the anchored node that starts at the alias (``alias_of`` points at the original).
    Used only for texts that contain ``*``; the C composer is faster.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.anchors: dict[str, yaml.Node] = {}

    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    compose_scalar_node = Composer.compose_scalar_node
    compose_sequence_node = Composer.compose_sequence_node
    compose_mapping_node = Composer.compose_mapping_node

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                self.get_event()
                copy: Any
                if isinstance(node, yaml.ScalarNode):
                    copy = yaml.ScalarNode(
                        node.tag, node.value, event.start_mark, event.end_mark, node.style
                    )
                else:
                    collection: Any = node
                    kind: Any = type(node)
                    copy = kind(
                        node.tag,
                        node.value,
                        event.start_mark,
                        event.end_mark,
                        collection.flow_style,
                    )
                copy.alias_of = node
                return copy
        composed: Any = Composer.compose_node(self, parent, index)
        return composed


_UNICODE_BREAKS = re.compile("[\x85\u2028\u2029]")
"""Line breaks to YAML 1.1 (and libyaml), but not to editors, which count only LF, CRLF, CR."""


def editor_lines(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` with NEL, LS and PS replaced by spaces, and where each was (line, column).

    So every later position is the one an editor shows, and such a character in a comment
    is harmless; one inside a value is reported (see ``breaks_in_values``).
    """
    if text.isascii():  # the common case, answered without reading the text in Python
        return text, []
    found = [m.start() for m in _UNICODE_BREAKS.finditer(text)]
    if not found:
        return text, []
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    where = []
    for index in found:
        row = bisect.bisect_right(starts, index) - 1
        where.append((row, index - starts[row], text[index]))
    return _UNICODE_BREAKS.sub(" ", text), where


def breaks_in_values(
    name: str, root: yaml.Node, breaks: list[tuple[int, int, str]]
) -> list[Diagnostic]:
    """A diagnostic for each replaced line separator that sat inside a scalar (key or value)."""
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            spans.append(
                (
                    (node.start_mark.line, node.start_mark.column),
                    (node.end_mark.line, node.end_mark.column),
                )
            )
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    spans.sort()
    starts = [span[0] for span in spans]
    out = []
    for row, column, char in breaks:
        at = bisect.bisect_right(starts, (row, column)) - 1
        if at >= 0 and spans[at][0] <= (row, column) < spans[at][1]:
            out.append(
                Diagnostic(
                    SourceRef(name, row + 1, column + 1),
                    Level.ERROR,
                    f"{char_name(char)} inside a value: an invisible line break that editors "
                    "do not show; remove it (write \\n in a double-quoted string for a real one)",
                )
            )
    return out


_INDENT_HINTS = (
    "mapping values are not allowed",
    "did not find expected key",
    "did not find expected '-' indicator",
    "could not find expected ':'",
    "block sequence entries are not allowed",
    "did not find expected <document start>",
)


def yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context.startswith("expected"):
        problem = f"{exc.context}, {problem}"
    if "tab character" in problem or "'\\t'" in problem or "\t" in problem:
        return f"not valid YAML: {problem}; YAML cannot indent with tabs: use spaces"
    if any(hint in problem for hint in _INDENT_HINTS):
        return (
            f"not valid YAML: {problem}; check the indentation here and on the line above "
            "(keys of one mapping line up; list items start with '- ' at the same column), "
            "or quote a value that contains ': '"
        )
    return f"not valid YAML: {problem}"
