"""Read a YAML file into plain data, keeping the node tree to find positions on demand.

Why not a side table of marks: recording a mark for every node costs time on every load,
while positions are only needed for the few values that have a problem. The composed node
tree already holds every start mark, so ``Document.where(path)`` walks it when asked.

Contract: ``read_document`` never raises for bad input; it returns diagnostics instead
(not a regular file, too large, not UTF-8, binary, not YAML, several documents, duplicate
keys, unknown tags, merge keys, nesting too deep, alias bombs, control characters).
Positions are 1-based, as editors count lines (``infra.lines.parsing``); bytes are read and
decoded by ``infra.lines.raw``.
Must not import: twilio, pulumi, jsonschema, infra.model, infra.render, infra.providers.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml import MappingNode, ScalarNode, SequenceNode

from infra.errors import Diagnostic, Level, SourceRef
from infra.lines.parsing import (
    BOOL,
    DECIMAL,
    DECIMAL_FLOAT,
    FLOAT,
    INT,
    TIMESTAMP,
    AliasAwareLoader,
    BaseLoader,
    breaks_in_values,
    editor_lines,
    yaml_problem,
)
from infra.lines.raw import MAX_BYTES, decode, read_regular, too_large
from infra.lines.text import FORBIDDEN, char_name, one_line, quoted
from infra.lines.urls import redact

MAX_DEPTH = 64
"""Deeper nesting is refused; lines.yaml needs six levels."""
MAX_NODES = 2_000_000
"""Guards against alias expansion bombs ("billion laughs")."""

STR, SEQ, MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
MERGE = "tag:yaml.org,2002:merge"


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


class _Builder:
    """Turn composed nodes into dicts, lists and scalars, enforcing the rules above.

    Plain scalars are read the way YAML 1.2 and JSON read them, not as YAML 1.1 does:
    only ``true``/``false`` are booleans (``no`` stays text), only plain decimal digits are
    integers (``030`` stays text instead of becoming octal 24), dates stay text, and a
    float that is a whole number (``120.0``) becomes that integer.
    """

    def __init__(self, loader: Any, file: str, *, text_is_clean: bool = False) -> None:
        self._loader = loader
        self._file = file
        self._nodes = 0
        self._clean = text_is_clean
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
        if isinstance(node, ScalarNode):
            if node.tag == STR:  # most values: skip the constructor machinery
                return node.value if self._clean else self._text(node, node.value)
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            self._plain_tag(node, SEQ)
            items = []
            path = self._path
            for index, child in enumerate(node.value):
                path.append(index)
                items.append(self.build(child, depth + 1))
                path.pop()
            return items
        self._plain_tag(node, MAP)
        assert isinstance(node, MappingNode)  # the composer yields only these three
        return self._mapping(node, depth)

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, yaml.Mark] = {}
        path = self._path
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                raise _Rejected(
                    key_node.start_mark, "merge keys (<<) are not supported; write the keys out"
                )
            if not isinstance(key_node, ScalarNode):
                raise _Rejected(key_node.start_mark, "mapping keys must be plain strings")
            if key_node.tag == STR:
                key = key_node.value if self._clean else self._text(key_node, key_node.value)
            else:
                key = self._scalar(key_node)
                if not isinstance(key, str | int | bool | float) or key is None:
                    raise _Rejected(key_node.start_mark, "mapping keys must be plain strings")
            if key in first_seen:
                self.duplicates.append((key_node.start_mark, str(key), first_seen[key]))
                continue
            first_seen[key] = key_node.start_mark
            path.append(key if isinstance(key, str) else str(key))
            result[key] = self.build(value_node, depth + 1)
            path.pop()
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == STR:
            return node.value if self._clean else self._text(node, node.value)
        if node.style in (None, "") and tag in (BOOL, INT, FLOAT, TIMESTAMP):  # plain
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
        if tag == BOOL:
            lowered = text.lower()
            return lowered == "true" if lowered in ("true", "false") else text
        if tag == INT:
            return int(text) if DECIMAL.fullmatch(text) else text
        if tag == FLOAT:
            if not DECIMAL_FLOAT.fullmatch(text):
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


def _cannot_hold_forbidden(text: str) -> bool:
    """True when no value read from ``text`` can hold a ``FORBIDDEN`` character: an ASCII
    text that holds none (tab and line breaks aside) and writes none as an escape (no
    backslash). Then no value needs a look of its own. Asked with str methods: running the
    ``FORBIDDEN`` pattern over a 10,000-line text costs as much as building every value."""
    if not text.isascii() or "\\" in text:
        return False
    return text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable()


def _diag(file: str, mark: yaml.Mark | None, message: str) -> Diagnostic:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Diagnostic(SourceRef(file, line, column), Level.ERROR, message)


def read_document(
    path: str | Path, display_name: str | None = None
) -> tuple[Document, list[Diagnostic]]:
    """Read and parse ``path``; diagnostics are non-empty when the data is unusable.

    Only regular files are read, and never more than the size limit allows: a FIFO,
    ``/dev/zero`` or a directory is refused without reading it.
    """
    name = display_name or str(path)
    try:
        raw = read_regular(Path(path))
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
        return Document(name, None), [too_large(name, len(raw))]
    return parse_document(raw, name)


def parse_document(raw: bytes, name: str) -> tuple[Document, list[Diagnostic]]:
    """Parse bytes already in memory (used by ``read_document`` and by ``diff`` on git blobs)."""
    text, problems = decode(name, raw)
    if text is None:
        return Document(name, None), problems
    text, breaks = editor_lines(text)
    loader = (AliasAwareLoader if "*" in text else BaseLoader)(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return Document(name, None), [_diag(name, mark, yaml_problem(exc))]
    except (yaml.YAMLError, RecursionError) as exc:
        return Document(name, None), [_diag(name, None, f"not valid YAML: {type(exc).__name__}")]
    finally:
        loader.dispose()
    if root is None:
        msg = "file is empty; expected a mapping with version, account and lines"
        return Document(name, None), [_diag(name, None, msg)]
    separators = breaks_in_values(name, root, breaks) if breaks else []
    builder = _Builder(loader, name, text_is_clean=_cannot_hold_forbidden(text))
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
