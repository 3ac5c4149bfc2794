"""Read a YAML file into plain data, keeping the node tree to find positions on demand.

Why not a side table of marks: recording a mark for every node costs time on every load,
while positions are only needed for the few values that have a problem. The composed node
tree already holds every start mark, so ``Document.where(path)`` walks it when asked.

Contract: ``read_document`` never raises for bad input; it returns diagnostics instead
(not UTF-8, binary, too large, not YAML, several documents, duplicate keys, unknown tags,
merge keys, nesting too deep, alias bombs). Positions are 1-based.
Must not import: twilio, pulumi, jsonschema, infra.model, infra.render, infra.providers.
"""

from __future__ import annotations

import bisect
import errno
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer

from infra.errors import Diagnostic, Level, SourceRef
from infra.lines.text import FORBIDDEN, char_name, one_line, quoted
from infra.lines.urls import redact

MAX_BYTES = 8 * 1024 * 1024
"""Larger files are refused before parsing (a 10,000-line lines.yaml is about 300 KB)."""
MAX_DEPTH = 64
"""Deeper nesting is refused; lines.yaml needs six levels."""
MAX_NODES = 2_000_000
"""Guards against alias expansion bombs ("billion laughs")."""

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathItem = str | int
JsonPath = tuple[PathItem, ...]


def format_path(path: Sequence[PathItem]) -> str:
    """Render ``("lines", 2, "failover")`` as ``lines[2].failover``."""
    out = ""
    for item in path:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return one_line(out)


@dataclass(slots=True)
class Document:
    """Plain data loaded from a file plus what is needed to point back into it."""

    file: str
    data: Any
    root: yaml.Node | None = field(default=None, repr=False)

    def node(self, path: Sequence[PathItem]) -> yaml.Node | None:
        """The composed node at ``path``, or None when there is none."""
        node = self.root
        for item in path:
            if node is None:
                return None
            node, _ = _child(node, item)
        return node

    def ref(self, mark: yaml.Mark) -> SourceRef:
        """A 1-based position for a node's start mark."""
        return SourceRef(self.file, mark.line + 1, mark.column + 1)

    def where(self, path: Sequence[PathItem], *, key: bool = False) -> SourceRef:
        """Position of the value at ``path`` (of its key when ``key``), else its nearest parent."""
        node = self.root
        if node is None:
            return SourceRef(self.file, 1, 1)
        mark = node.start_mark
        for index, item in enumerate(path):
            child, key_node = _child(node, item)
            if child is None:
                break
            last = index == len(path) - 1
            node = child
            mark = (
                key_node.start_mark if (key and last and key_node is not None) else node.start_mark
            )
            if getattr(node, "alias_of", None) is not None:
                break  # this occurrence is the alias: point there, not into the anchor
        return SourceRef(self.file, mark.line + 1, mark.column + 1)


def _child(node: yaml.Node, item: PathItem) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode) and isinstance(item, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == item:
                return value_node, key_node
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(item, int)
        and 0 <= item < len(node.value)
    ):
        return node.value[item], None
    return None, None


class _Rejected(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def yaml11_reading(node: yaml.Node) -> str:
    """What YAML 1.1 would have made of a plain scalar this reader keeps as text, in words.

    ``""`` for anything else. Used to explain why e.g. ``timeout: 030`` is not a number here.
    """
    if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
        return ""
    text = node.value
    if node.tag == _BOOL:
        meaning = "true" if text.lower() in ("yes", "y", "on") else "false"
        return (
            f"YAML 1.1 reads {text} as {meaning}, so this file keeps it as text; "
            f'write {meaning} for the boolean, or "{text}" in quotes for the text'
        )
    if node.tag == _INT:
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
    if node.tag == _FLOAT:
        return f"YAML 1.1 reads {text} as a number in an unusual form; write a plain number"
    if node.tag == _TIMESTAMP:
        return f'YAML 1.1 reads {text} as a date; this file keeps it as the text "{text}"'
    return ""


class _Builder:
    """Turn composed nodes into dicts, lists and scalars, enforcing the rules above.

    Plain scalars are read the way YAML 1.2 and JSON read them, not as YAML 1.1 does:
    only ``true``/``false`` are booleans (``no`` stays text), only plain decimal digits are
    integers (``030`` stays text instead of becoming octal 24), dates stay text, and a
    float that is a whole number (``120.0``) becomes that integer.
    """

    def __init__(self, loader: Any, file: str) -> None:
        self._loader = loader
        self._file = file
        self._nodes = 0
        self.duplicates: list[tuple[yaml.Mark, str, yaml.Mark]] = []
        self.problems: list[Diagnostic] = []
        self._path: list[PathItem] = []

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Rejected(
                node.start_mark, "the document expands to too many values (alias bomb?)"
            )
        if depth > MAX_DEPTH:
            raise _Rejected(node.start_mark, f"nesting is deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            self._plain_tag(node, "tag:yaml.org,2002:seq")
            items = []
            for index, child in enumerate(node.value):
                self._path.append(index)
                items.append(self.build(child, depth + 1))
                self._path.pop()
            return items
        self._plain_tag(node, "tag:yaml.org,2002:map")
        return self._mapping(node, depth)

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, yaml.Mark] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Rejected(
                    key_node.start_mark, "merge keys (<<) are not supported; write the keys out"
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Rejected(key_node.start_mark, "mapping keys must be plain strings")
            key = self._scalar(key_node)
            if not isinstance(key, str | int | bool | float) or key is None:
                raise _Rejected(key_node.start_mark, "mapping keys must be plain strings")
            if key in first_seen:
                self.duplicates.append((key_node.start_mark, str(key), first_seen[key]))
                continue
            first_seen[key] = key_node.start_mark
            self._path.append(key if isinstance(key, str) else str(key))
            result[key] = self.build(value_node, depth + 1)
            self._path.pop()
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == "tag:yaml.org,2002:str":  # most values: skip the constructor machinery
            return self._text(node, node.value)
        if node.style in (None, "") and tag in (_BOOL, _INT, _FLOAT, _TIMESTAMP):  # plain
            return self._plain(node)
        try:
            value = self._loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            raise _Rejected(node.start_mark, f"unsupported YAML tag {node.tag!r}") from exc
        except (ValueError, OverflowError) as exc:
            raise _Rejected(node.start_mark, f"{node.value!r} is not a valid {node.tag}") from exc
        return self._text(node, value) if isinstance(value, str) else value

    def _plain(self, node: yaml.ScalarNode) -> Any:
        text, tag = node.value, node.tag
        if tag == _BOOL:
            lowered = text.lower()
            return lowered == "true" if lowered in ("true", "false") else text
        if tag == _INT:
            return int(text) if _DECIMAL.fullmatch(text) else text
        if tag == _FLOAT:
            if not _DECIMAL_FLOAT.fullmatch(text):
                special = text.lstrip("+-").lower()
                return self._loader.construct_object(node) if special in (".inf", ".nan") else text
            value = float(text)
            return int(value) if value.is_integer() and abs(value) < 2**53 else value
        return text  # timestamps stay the text that was written

    def _text(self, node: yaml.ScalarNode, value: str) -> str:
        bad = FORBIDDEN.search(value)
        if bad is None:
            return value
        char = bad.group()
        subject = "the text"
        if self._path:
            last = self._path[-1]
            subject = format_path(self._path[-2:]) if isinstance(last, int) else str(last)
        self.problems.append(
            Diagnostic(
                SourceRef(self._file, node.start_mark.line + 1, node.start_mark.column + 1),
                Level.ERROR,
                f"{one_line(subject)} {quoted(redact(value), 40)} contains {char_name(char)} at "
                f"character {bad.start() + 1}, which TwiML (XML) cannot carry; remove it",
                format_path(self._path),
            )
        )
        return FORBIDDEN.sub("\ufffd", value)

    @staticmethod
    def _plain_tag(node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            raise _Rejected(node.start_mark, f"unsupported YAML tag {node.tag!r}")


class _AliasAwareLoader(_BaseLoader):  # type: ignore[misc, valid-type]
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
                if isinstance(node, yaml.ScalarNode):
                    copy: yaml.Node = yaml.ScalarNode(
                        node.tag, node.value, event.start_mark, event.end_mark, node.style
                    )
                else:
                    copy = type(node)(
                        node.tag, node.value, event.start_mark, event.end_mark, node.flow_style
                    )
                copy.alias_of = node  # type: ignore[attr-defined]
                return copy
        return Composer.compose_node(self, parent, index)


def _diag(file: str, mark: yaml.Mark | None, message: str) -> Diagnostic:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Diagnostic(SourceRef(file, line, column), Level.ERROR, message)


_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def _wide_encoding(raw: bytes) -> str:
    """The UTF-16/32 flavour of ``raw`` by its byte-order mark or its NUL pattern, else ""."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    sample = raw[:4096]
    sample = sample[: len(sample) - len(sample) % 4]
    if len(sample) < 8:
        return ""
    columns = [sample[offset::4].count(0) * 4 / len(sample) for offset in range(4)]
    nul = [share > 0.9 for share in columns]
    some = [share < 0.5 for share in columns]
    if some[0] and nul[1] and nul[2] and nul[3]:
        return "UTF-32 (little-endian)"
    if nul[0] and nul[1] and nul[2] and some[3]:
        return "UTF-32 (big-endian)"
    if some[0] and some[2] and nul[1] and nul[3]:
        return "UTF-16 (little-endian)"
    if nul[0] and nul[2] and some[1] and some[3]:
        return "UTF-16 (big-endian)"
    return ""


def _too_large(file: str, size: int) -> Diagnostic:
    """Only the first ``MAX_BYTES + 1`` bytes are ever read, so the size is a lower bound."""
    limit = MAX_BYTES // (1024 * 1024)
    msg = f"file is larger than {limit} MiB; lines.yaml may be at most {limit} MiB"
    return Diagnostic(SourceRef(file, 1, 1), Level.ERROR, msg)


def _decode(file: str, raw: bytes) -> tuple[str | None, list[Diagnostic]]:
    if len(raw) > MAX_BYTES:
        return None, [_too_large(file, len(raw))]
    wide = _wide_encoding(raw)
    if wide:
        msg = f"file is {wide} text, not UTF-8; save it as UTF-8 (without a byte-order mark)"
        return None, [Diagnostic(SourceRef(file, 1, 1), Level.ERROR, msg)]
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        msg = "file contains NUL bytes: this looks like a binary file, not YAML text"
        return None, [Diagnostic(SourceRef(file, line, 1), Level.ERROR, msg)]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        msg = f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        return None, [Diagnostic(SourceRef(file, line, column), Level.ERROR, msg)]


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _read_regular(path: Path) -> bytes:
    """At most ``MAX_BYTES + 1`` bytes of a regular file; never blocks on a FIFO or device.

    Raises OSError, or ValueError naming what the path is when it is not a regular file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise ValueError(kind)
        chunks, left = [], MAX_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_document(
    path: str | Path, display_name: str | None = None
) -> tuple[Document, list[Diagnostic]]:
    """Read and parse ``path``; diagnostics are non-empty when the data is unusable.

    Only regular files are read, and never more than the size limit allows: a FIFO,
    ``/dev/zero`` or a directory is refused without reading it.
    """
    name = display_name or str(path)
    try:
        raw = _read_regular(Path(path))
    except ValueError as exc:
        msg = (
            f"cannot read file: it is {exc}, not a regular file; give the path of a lines.yaml file"
        )
        return Document(name, None), [Diagnostic(SourceRef(name, 1, 1), Level.ERROR, msg)]
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if exc.errno == errno.EISDIR:
            reason = "it is a directory, not a regular file; give the path of a lines.yaml file"
        return Document(name, None), [
            Diagnostic(SourceRef(name, 1, 1), Level.ERROR, f"cannot read file: {reason}")
        ]
    if len(raw) > MAX_BYTES:
        return Document(name, None), [_too_large(name, len(raw))]
    return parse_document(raw, name)


_UNICODE_BREAKS = re.compile("[\x85\u2028\u2029]")
"""Line breaks to YAML 1.1 (and libyaml), but not to editors, which count only LF, CRLF, CR."""


def _editor_lines(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` with NEL, LS and PS replaced by spaces, and where each was (line, column).

    So every later position is the one an editor shows, and such a character in a comment
    is harmless; one inside a value is reported (see ``_breaks_in_values``).
    """
    found = [m.start() for m in _UNICODE_BREAKS.finditer(text)]
    if not found:
        return text, []
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    where = []
    for index in found:
        row = bisect.bisect_right(starts, index) - 1
        where.append((row, index - starts[row], text[index]))
    return _UNICODE_BREAKS.sub(" ", text), where


def _breaks_in_values(
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


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
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


def parse_document(raw: bytes, name: str) -> tuple[Document, list[Diagnostic]]:
    """Parse bytes already in memory (used by ``read_document`` and by ``diff`` on git blobs)."""
    text, problems = _decode(name, raw)
    if text is None:
        return Document(name, None), problems
    text, breaks = _editor_lines(text)
    loader = (_AliasAwareLoader if "*" in text else _BaseLoader)(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return Document(name, None), [_diag(name, mark, _yaml_problem(exc))]
    except (yaml.YAMLError, RecursionError) as exc:
        return Document(name, None), [_diag(name, None, f"not valid YAML: {type(exc).__name__}")]
    finally:
        loader.dispose()
    if root is None:
        msg = "file is empty; expected a mapping with version, account and lines"
        return Document(name, None), [_diag(name, None, msg)]
    separators = _breaks_in_values(name, root, breaks) if breaks else []
    builder = _Builder(loader, name)
    try:
        data = builder.build(root)
    except _Rejected as exc:
        return Document(name, None, root), [*separators, _diag(name, exc.mark, exc.message)]
    except RecursionError:
        return Document(name, None, root), [_diag(name, root.start_mark, "nesting is too deep")]
    duplicates = [
        _diag(
            name,
            mark,
            f"duplicate key {quoted(key)} (first at line {first.line + 1}); remove one of them",
        )
        for mark, key, first in builder.duplicates
    ]
    return Document(name, data, root), [*separators, *builder.problems, *duplicates]
