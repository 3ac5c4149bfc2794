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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.errors import Diagnostic, Level, SourceRef

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
    return out


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
    """Turn composed nodes into dicts, lists and scalars, enforcing the rules above."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._nodes = 0
        self.duplicates: list[tuple[yaml.Mark, str, yaml.Mark]] = []

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
            return [self.build(child, depth + 1) for child in node.value]
        self._plain_tag(node, "tag:yaml.org,2002:map")
        assert isinstance(node, yaml.MappingNode)  # the composer yields only these three
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
            result[key] = self.build(value_node, depth + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:str":  # most values: skip the constructor machinery
            return node.value
        try:
            return self._loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            raise _Rejected(node.start_mark, f"unsupported YAML tag {node.tag!r}") from exc

    @staticmethod
    def _plain_tag(node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            raise _Rejected(node.start_mark, f"unsupported YAML tag {node.tag!r}")


def _diag(file: str, mark: yaml.Mark | None, message: str) -> Diagnostic:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Diagnostic(SourceRef(file, line, column), Level.ERROR, message)


def _decode(file: str, raw: bytes) -> tuple[str | None, list[Diagnostic]]:
    if len(raw) > MAX_BYTES:
        size = len(raw) / (1024 * 1024)
        limit = MAX_BYTES // (1024 * 1024)
        msg = f"file is {size:.1f} MiB; lines.yaml may be at most {limit} MiB"
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


def read_document(
    path: str | Path, display_name: str | None = None
) -> tuple[Document, list[Diagnostic]]:
    """Read and parse ``path``; diagnostics are non-empty when the data is unusable."""
    name = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return Document(name, None), [
            Diagnostic(SourceRef(name, 1, 1), Level.ERROR, f"cannot read file: {reason}")
        ]
    return parse_document(raw, name)


def parse_document(raw: bytes, name: str) -> tuple[Document, list[Diagnostic]]:
    """Parse bytes already in memory (used by ``read_document`` and by ``diff`` on git blobs)."""
    text, problems = _decode(name, raw)
    if text is None:
        return Document(name, None), problems
    loader = _BaseLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context.startswith("expected"):
            problem = f"{exc.context}, {problem}"
        return Document(name, None), [_diag(name, mark, f"not valid YAML: {problem}")]
    except (yaml.YAMLError, RecursionError) as exc:
        return Document(name, None), [_diag(name, None, f"not valid YAML: {type(exc).__name__}")]
    finally:
        loader.dispose()
    if root is None:
        msg = "file is empty; expected a mapping with version, account and lines"
        return Document(name, None), [_diag(name, None, msg)]
    builder = _Builder(loader)
    try:
        data = builder.build(root)
    except _Rejected as exc:
        return Document(name, None, root), [_diag(name, exc.mark, exc.message)]
    except RecursionError:
        return Document(name, None, root), [_diag(name, root.start_mark, "nesting is too deep")]
    duplicates = [
        _diag(
            name,
            mark,
            f'duplicate key "{key}" (first at line {first.line + 1}); remove one of them',
        )
        for mark, key, first in builder.duplicates
    ]
    return Document(name, data, root), duplicates
