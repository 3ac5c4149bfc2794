"""Plain-value helpers for what Twilio returns: compare, canonicalise, match URLs.

Pure. Must not import: pulumi, twilio, infra.providers, infra.cli.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit


def text(value: object) -> str:
    """Twilio returns unset fields as None or "" inconsistently: compare as strings."""
    return "" if value is None else str(value)


def canonical_json(value: object) -> str:
    """Byte-stable JSON: sorted keys, no whitespace, integral floats written as ints."""
    return json.dumps(integral(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def integral(value: object) -> Any:
    """Undo the engine's number round trip (every number arrives as a float)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [integral(v) for v in value]
    return value


def same_url_target(a: str, b: str) -> bool:
    """Compare URLs by host and path, ignoring scheme and a trailing slash (twilio.md §1.1)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return bool(pa.netloc) and (pa.netloc.lower(), pa.path.rstrip("/")) == (
        pb.netloc.lower(),
        pb.path.rstrip("/"),
    )


def canonical_definition(definition: object) -> str:
    """The comparison form: sorted keys, states sorted by name, UI offsets dropped."""
    flow = json.loads(definition) if isinstance(definition, str) else integral(definition)
    states = []
    for state in flow.get("states") or []:
        state = dict(state)
        if isinstance(state.get("properties"), dict):
            state["properties"] = {k: v for k, v in state["properties"].items() if k != "offset"}
        states.append(state)
    flow = {**flow, "states": sorted(states, key=lambda s: str(s.get("name")))}
    return canonical_json(flow)
