"""Small helpers shared by the product modules: form-to-record mapping, lookups, URLs.

Twilio writes are partial: only parameters present in the form change the record, and an
empty value is a value (it clears a string field). :func:`assign` implements exactly that.
Must not import: infra.*
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import invalid, not_found
from .routing import Call
from .state import Record, Table

Converter = Callable[[str], Any]


def text(value: str) -> str:
    return value


def boolean(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def integer(value: str) -> int:
    return int(value)


def json_text(value: str) -> str:
    """A JSON document sent as a string parameter; stored as sent, rejected if not JSON."""
    try:
        json.loads(value)
    except ValueError as exc:
        raise invalid(f"Invalid JSON: {exc}") from exc
    return value


FieldMap = Mapping[str, tuple[str, Converter]]


def assign(record: Record, call: Call, fields: FieldMap) -> list[str]:
    """Copy the form parameters named in ``fields`` onto ``record``; return changed keys."""
    changed = []
    for param, (key, convert) in fields.items():
        if not call.has(param):
            continue
        try:
            value = convert(call.arg(param) or "")
        except ValueError as exc:
            raise invalid(f"Invalid value for {param}: {exc}") from exc
        if record.get(key) != value:
            record[key] = value
            changed.append(key)
    return changed


def lookup(table: Table, sid: str, call: Call, **parents: str) -> Record:
    """``table[sid]`` if it exists and belongs to the given parents, else Twilio's 404."""
    record = table.get(sid)
    if record is None or any(record.get(key) != value for key, value in parents.items()):
        raise not_found(call.path)
    return record


def is_valid_url(value: str) -> bool:
    """What Twilio's 21402 asks for: an http(s) scheme and a host (path/query checks lenient)."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def https(host: str, path: str) -> str:
    """A resource's own ``url`` on the real Twilio host."""
    return f"https://{host}{path}"


def links(host: str, base: str, names: Mapping[str, str]) -> dict[str, str]:
    """``links`` object: name -> ``https://{host}{base}/{Segment}``."""
    return {name: https(host, f"{base}/{segment}") for name, segment in names.items()}
