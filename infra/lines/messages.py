"""Schema errors in the words of lines.yaml: positioned at the key or value, with the hint
that makes a value that looks right visibly wrong (a YAML 1.1 reading, an invisible
character, an emergency number) and never a line break or a URL credential.

Must not import: twilio, pulumi, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from infra.errors import Diagnostic, Level
from infra.lines import numbers
from infra.lines.parsing import yaml11_reading
from infra.lines.source import Document, format_path
from infra.lines.text import odd_characters, one_line, quoted

if TYPE_CHECKING:  # only files with schema errors load jsonschema (see infra.lines.load)
    import jsonschema

_TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "boolean": "true or false",
    "number": "a number",
}


def translate(error: jsonschema.ValidationError, document: Document) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    subject = _subject(path)
    where = document.where(path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return _unknown_keys(error, path, document)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a key"
        message = f'{subject} is missing required key "{missing}"'
        return [Diagnostic(where, Level.ERROR, message, format_path(path))]
    if error.validator == "type":
        listed = isinstance(error.validator_value, list) and isinstance(error.schema, dict)
        custom_type = error.schema.get("errorMessage") if listed else None  # type: ignore[union-attr]
        message = f"{subject} {custom_type or _type_message(error, document.node(path))}"
        hint = _hint(error, document.node(path))
        message = f"{message}; {hint}" if hint else message
        return [Diagnostic(where, Level.ERROR, message, format_path(path))]
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if error.validator in ("minLength", "maxLength"):
        limit = error.validator_value
        message = f"{subject} must be {'at least' if error.validator == 'minLength' else 'at most'} {limit} characters long"
    elif custom:
        message = f"{subject} {custom}"
    else:
        message = f"{subject}: {one_line(error.message)}"
    hint = _hint(error, document.node(path))
    if hint:
        message = f"{message}; {hint}"
    return [Diagnostic(where, Level.ERROR, message, format_path(path))]


def _hint(error: jsonschema.ValidationError, node: yaml.Node | None) -> str:
    """Why a value that looks right is wrong: YAML 1.1 readings, invisible characters."""
    value = error.instance
    if not isinstance(value, str) or node is None:
        return ""
    node = getattr(node, "alias_of", None) or node
    reading = yaml11_reading(node)
    if reading:
        return reading
    if error.validator == "pattern":
        emergency = numbers.emergency(value) if value.startswith("+") else None
        if emergency:
            return f"it is the emergency number {emergency}, which failover must never dial"
        return odd_characters(value)
    return ""


MAX_UNKNOWN_KEYS_SHOWN = 20
"""Per mapping; past this a single line counts the rest (a pasted file can have thousands)."""


def _unknown_keys(
    error: jsonschema.ValidationError, path: tuple[Any, ...], document: Document
) -> list[Diagnostic]:
    import difflib  # loaded with the errors it explains, like jsonschema

    allowed = sorted(error.schema.get("properties", {}) if isinstance(error.schema, dict) else {})
    node = document.node(path)
    key_nodes = [k for k, _ in node.value] if isinstance(node, yaml.MappingNode) else []
    unknown = [k for k in key_nodes if isinstance(k, yaml.ScalarNode) and k.value not in allowed]
    out = []
    for key_node in unknown[:MAX_UNKNOWN_KEYS_SHOWN]:
        key = key_node.value
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else f"; allowed keys: {', '.join(allowed)}"
        message = f"unknown key {quoted(key)} in {_subject(path)}{hint}"
        out.append(
            Diagnostic(
                document.ref(key_node.start_mark),
                Level.ERROR,
                message,
                format_path((*path, one_line(str(key)))),
            )
        )
    if len(unknown) > MAX_UNKNOWN_KEYS_SHOWN:
        rest = len(unknown) - MAX_UNKNOWN_KEYS_SHOWN
        message = f"…and {rest} more unknown keys in {_subject(path)}"
        out.append(
            Diagnostic(
                document.ref(unknown[MAX_UNKNOWN_KEYS_SHOWN].start_mark),
                Level.ERROR,
                message,
                format_path(path),
            )
        )
    return out


def _type_message(error: jsonschema.ValidationError, node: yaml.Node | None = None) -> str:
    expected = error.validator_value
    if isinstance(expected, list):  # e.g. a greeting: text, or a mapping with audio
        word = " or ".join(_TYPE_WORDS.get(str(kind), str(kind)) for kind in expected)
    else:
        word = _TYPE_WORDS.get(str(expected), str(expected))
    got = error.instance
    written = node.value if isinstance(node, yaml.ScalarNode) and node.style in (None, "") else None
    if expected == "string" and isinstance(got, int) and not isinstance(got, bool):
        if written is None or written.startswith("+"):
            return f'must be a string; put numbers in quotes, e.g. "+{got}" (unquoted, YAML reads {got} as an integer)'
    if expected == "string" and isinstance(got, int | float) and written is not None:
        kind = "a boolean" if isinstance(got, bool) else "a number"
        return f"must be a string, not {kind}; put it in quotes: {quoted(written)}"
    if got is None:
        shown = "nothing (null)"
    elif isinstance(got, dict | list):
        shown = "a mapping" if isinstance(got, dict) else "a list"
    else:
        shown = one_line(json.dumps(got, default=str, ensure_ascii=False))[:40]
    return f"must be {word}, not {shown}"


def _subject(path: tuple[Any, ...]) -> str:
    """The name a user knows the value by: its key, with the index for list items."""
    if not path:
        return "the file"
    if isinstance(path[-1], int):
        return format_path(path[-2:]) if len(path) >= 2 else f"item {path[-1]}"
    return one_line(str(path[-1]))
