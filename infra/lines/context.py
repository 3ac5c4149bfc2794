"""What every semantic check sees: the parsed document minus the values the schema rejected.

Must not import: twilio, pulumi, jsonschema, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.errors import Diagnostic, Level, SourceRef
from infra.lines.source import Document, JsonPath, format_path


@dataclass(slots=True)
class Context:
    """The parsed document plus the values the schema already rejected.

    ``broken`` holds the paths of rejected values. A typo'd or missing key does not break
    its mapping, so the other keys of the same line are still checked.
    """

    document: Document
    broken: set[tuple[str | int, ...]]
    base_dir: Path | None = None
    """The folder of the lines file, where recordings are read; None for content that has no
    folder (a file at a git revision): then recordings are not checked."""
    _items: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)

    def usable(self, *path: str | int) -> bool:
        broken = self.broken
        return not any(path[:depth] in broken for depth in range(len(path) + 1))

    def items(self, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
        if key not in self._items:
            self._items[key] = list(self._usable_items(key))
        return iter(self._items[key])

    def _usable_items(self, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
        data = self.document.data
        if (
            not isinstance(data, dict)
            or not self.usable(key)
            or not isinstance(data.get(key), list)
        ):
            return
        for index, item in enumerate(data[key]):
            if isinstance(item, dict) and self.usable(key, index):
                yield index, self._clean(item, (key, index))

    def _clean(self, item: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
        """``item`` without the values the schema rejected (nested mappings too)."""
        if not self.broken:
            return item
        out: dict[str, Any] = {}
        for name, value in item.items():
            here = (*path, name)
            if here in self.broken:
                continue
            out[name] = self._clean(value, here) if isinstance(value, dict) else value
        return out

    def lines(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return self.items("lines")

    def mapping(self, *path: str) -> dict[str, Any]:
        """The mapping at ``path`` when it passed the schema; ``{}`` when absent or broken."""
        value: Any = self.document.data
        for depth, key in enumerate(path, 1):
            if not isinstance(value, dict) or not self.usable(*path[:depth]):
                return {}
            value = value.get(key)
        return self._clean(value, path) if isinstance(value, dict) else {}

    def error(self, path: JsonPath, message: str, *, key: bool = False) -> Diagnostic:
        return Diagnostic(
            self.document.where(path, key=key), Level.ERROR, message, format_path(path)
        )

    def warning(self, path: JsonPath, message: str, *, key: bool = False) -> Diagnostic:
        return Diagnostic(
            self.document.where(path, key=key), Level.WARNING, message, format_path(path)
        )

    def at(self, path: JsonPath) -> SourceRef:
        return self.document.where(path)


Check = Callable[[Context], Iterator[Diagnostic]]
