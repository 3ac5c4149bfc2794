"""lines.yaml in, model or every diagnostic out: parse → schema → semantic checks → model.

The only reader of YAML and of the JSON schema. Structure lives in
``schemas/lines.schema.json``; meaning (unique ids, valid numbers, known agents) lives in
``infra.lines.checks``. The model is built only when no error remains; warnings come with it.

    config, warnings = load_config("lines.yaml")   # raises ConfigError listing every error

Must not import: twilio, pulumi, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from infra.errors import ConfigError, Diagnostic, Level
from infra.lines import checks
from infra.lines.messages import translate
from infra.lines.source import Document, parse_document, read_document
from infra.model import (
    DEFAULT_FORWARD_TIMEOUT_S,
    DEFAULT_QUEUE_TIMEOUT_S,
    Agent,
    Line,
    LinesConfig,
    LineType,
    Queue,
    Voicemail,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "lines.schema.json"


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace local ``{"$ref": "#/$defs/x", ...}`` with the definition merged with siblings.

    Resolving ``$ref`` through jsonschema's registry on every value was over half of the
    validation time; our schema has no recursive definitions, so inlining once is exact.
    """
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(out.get("pattern"), str):
        out["pattern"] = _python_pattern(out["pattern"])
    ref = out.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        out = {**target, **out}
    return out


def _python_pattern(pattern: str) -> str:
    """An ECMA ``pattern`` as Python's ``re.search`` must see it to mean the same.

    In ECMA-262 (what JSON Schema specifies, and what editors run) ``$`` matches only at the
    very end; in Python it also matches before a final newline, so ``"main\\n"`` passed
    ``^[a-z]+$``. jsonschema uses ``re.search`` as is; fastjsonschema already rewrites
    ``$`` as ``\\Z``. Both now see ``\\Z``.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\Z"
    return pattern


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON schema of lines.yaml, as shipped in schemas/ (with its $defs).

    Read from the checkout when there is one, else from the installed wheel, where
    schemas/ is packaged as ``failover_schemas``.
    """
    if SCHEMA_PATH.is_file():
        text = SCHEMA_PATH.read_text(encoding="utf-8")
    else:
        text = (
            resources.files("failover_schemas")
            .joinpath(SCHEMA_PATH.name)
            .read_text(encoding="utf-8")
        )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


_PATTERNS = {
    "accountName": ("properties", "account", "properties", "name", "pattern"),
    "id": ("$defs", "id", "pattern"),
}


def schema_pattern(name: str) -> str:
    """A pattern the schema defines (``accountName``, ``id``), for code that must produce or
    recognise the same values (``failover import``): the schema stays the one definition.
    Use it with ``re.fullmatch``."""
    node: Any = schema()
    for key in _PATTERNS[name]:
        node = node[key]
    return str(node)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    shipped = schema()
    return jsonschema.Draft202012Validator(_inline_refs(shipped, shipped.get("$defs", {})))


@functools.cache
def _fast_check() -> Any:
    """A compiled validator that only answers "valid?" about ten times faster than jsonschema.

    Clean files, the common case, take this path; when it says no, jsonschema runs and
    explains every error. The schema uses only keywords both libraries implement alike
    (tests/test_load.py checks they agree on every fixture).
    """
    shipped = schema()
    inlined = _inline_refs(shipped, shipped.get("$defs", {}))
    inlined.pop("$schema", None)
    return fastjsonschema.compile(inlined)


def _schema_errors(data: Any) -> list[jsonschema.ValidationError]:
    try:
        _fast_check()(data)
    except fastjsonschema.JsonSchemaException:
        return list(_validator().iter_errors(data))
    return []


def load_config(
    path: str | Path, display_name: str | None = None
) -> tuple[LinesConfig, list[Diagnostic]]:
    """Load ``path`` into the model; return it with warnings, or raise ConfigError."""
    document, diagnostics = read_document(path, display_name)
    return _finish(document, diagnostics)


def load_bytes(raw: bytes, name: str) -> tuple[LinesConfig, list[Diagnostic]]:
    """As ``load_config`` for content already in memory (e.g. a file at a git revision)."""
    document, diagnostics = parse_document(raw, name)
    return _finish(document, diagnostics)


def validate(path: str | Path, display_name: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for ``path``, errors and warnings, in file order. Never raises."""
    try:
        _, warnings = load_config(path, display_name)
    except ConfigError as exc:
        return exc.diagnostics
    return warnings


def _finish(
    document: Document, diagnostics: list[Diagnostic]
) -> tuple[LinesConfig, list[Diagnostic]]:
    if document.data is not None:
        errors = _schema_errors(document.data)
        for error in errors:
            diagnostics.extend(translate(error, document))
        diagnostics.extend(checks.run_all(document, _broken_subtrees(errors)))
    elif not diagnostics:  # a document that is only `null` or `~`
        where = document.where(())
        diagnostics.append(
            Diagnostic(
                where,
                Level.ERROR,
                "the file holds no data; expected a mapping with version, account and lines",
            )
        )
    diagnostics.sort(key=lambda d: (d.where.line, d.where.column, d.message))
    if document.data is None or any(d.is_error for d in diagnostics):
        raise ConfigError(diagnostics)
    return build_model(document), diagnostics


_KEY_ERRORS = ("required", "additionalProperties")
"""Schema errors about a mapping's keys: the values it does hold are still well typed."""


def _broken_subtrees(errors: list[jsonschema.ValidationError]) -> set[tuple[str | int, ...]]:
    """Paths of the values that failed the schema (e.g. ``("lines", 3, "number")``).

    Semantic checks skip these, so they never trip over a value of the wrong type, yet
    still report problems everywhere else in the same run, the rest of the same line
    included: a typo'd or missing key breaks nothing but itself.
    """
    return {tuple(error.absolute_path) for error in errors if error.validator not in _KEY_ERRORS}


def schema_diagnostics(document: Document) -> list[Diagnostic]:
    """One diagnostic per schema violation, positioned at the offending key or value."""
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(document.data):
        out.extend(translate(error, document))
    return out


# ---------------------------------------------------------------- model building


def build_model(document: Document) -> LinesConfig:
    """Build the model from schema- and check-clean data, applying defaults once, here."""
    data = document.data
    defaults = data.get("defaults", {})
    base_voicemail = defaults.get("voicemail", {})
    forward_timeout = defaults.get("forward", {}).get("timeout", DEFAULT_FORWARD_TIMEOUT_S)
    lines = tuple(
        _build_line(document, index, raw, base_voicemail, forward_timeout)
        for index, raw in enumerate(data["lines"])
    )
    agents = tuple(
        Agent(
            id=raw["id"], name=raw["name"], phone=raw["phone"], where=document.where(("agents", i))
        )
        for i, raw in enumerate(data.get("agents", []))
    )
    return LinesConfig(
        version=data["version"],
        account=data["account"]["name"],
        lines=lines,
        agents=agents,
        alerts_webhook=data.get("alerts", {}).get("webhook"),
        default_voicemail=_voicemail(document, ("defaults", "voicemail"), base_voicemail, {}),
        source=document.file,
    )


def _voicemail(
    document: Document, path: tuple[Any, ...], base: dict[str, Any], own: dict[str, Any]
) -> Voicemail:
    merged = {**base, **own}
    kwargs: dict[str, Any] = {}
    for key, attr in (
        ("greeting", "greeting"),
        ("voice", "voice"),
        ("language", "language"),
        ("max_length", "max_length_s"),
        ("recording_callback", "recording_callback"),
    ):
        if key in merged:
            kwargs[attr] = merged[key]
    where_path = path if own else ("defaults", "voicemail")
    return Voicemail(**kwargs, where=document.where(where_path))


def _build_line(
    document: Document,
    index: int,
    raw: dict[str, Any],
    base_voicemail: dict[str, Any],
    forward_timeout: int,
) -> Line:
    path = ("lines", index)
    failover = raw.get("failover", {})
    forwarding = tuple(raw.get("forwarding", ()))
    forward = failover.get("forward") or (forwarding[-1] if forwarding else None)
    queue_raw = raw.get("queue")
    queue = None
    if queue_raw is not None:
        queue = Queue(
            agents=tuple(queue_raw["agents"]),
            timeout_s=queue_raw.get("timeout", DEFAULT_QUEUE_TIMEOUT_S),
            where=document.where((*path, "queue")),
        )
    return Line(
        id=raw["id"],
        type=LineType(raw["type"]),
        number=raw["number"],
        name=raw.get("name", ""),
        primary=raw.get("primary"),
        forward=forward,
        forward_timeout_s=failover.get("timeout", forward_timeout),
        forwarding=forwarding,
        url=failover.get("url"),
        message=failover.get("message"),
        voicemail=_voicemail(
            document,
            (*path, "failover", "voicemail"),
            base_voicemail,
            failover.get("voicemail", {}),
        ),
        queue=queue,
        test=bool(raw.get("test", False)),
        where=document.where(path),
    )
