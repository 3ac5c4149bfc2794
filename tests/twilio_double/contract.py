"""Check each request and response of the double against Twilio's OpenAPI files (openapi-core).

- Requests are rebuilt with their real URL (``https://{host}{path}``) so they match the spec's
  ``servers``. Schema failures (missing/invalid parameters) make the double answer 400: code
  21403 when the failing parameter is an HTTP-method field, 20001 otherwise. Form or query
  parameters the operation does not declare are violations too, though Twilio would ignore
  them (the spec does not forbid them; we do, to catch typos).
- 2xx responses are validated against the operation's schema; error responses (the spec
  declares none) against :data:`ERROR_SCHEMA`, Twilio's error body.
- Upload-host requests are shape-checked by :mod:`upload`; their responses are validated as
  the response of fetching the created version on serverless.twilio.com.

Speed: each spec is parsed once per process without openapi-spec-validator's (1 s) pass over
the spec. Records inside list responses are validated once per distinct record per process:
a list is validated with only the records not seen before (keyed by a digest of the record),
so re-listing unchanged records costs nothing; every record is still checked once.

Spec quirks we allow (``_QUIRKS``): the v2010 number schema gives ``voice_application_sid``
and ``sms_application_sid`` an ``^AP…$`` pattern although the spec's own example (and Twilio)
answers ``""`` for "none"; we accept ``""`` there and nothing else.
Must not import: infra.*
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import SecurityValidationError

from . import upload
from .errors import INVALID_METHOD, INVALID_PARAMETER, TwilioError
from .spec_files import SPEC_FILES

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string", "minLength": 1},
        "more_info": {"type": "string", "pattern": r"^https://www\.twilio\.com/docs/errors/\d+$"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "details": {"type": "object"},
    },
}

_QUIRKS = {
    ("api.v2010.account.incoming_phone_number", "voice_application_sid"): "^(AP[0-9a-fA-F]{32})?$",
    ("api.v2010.account.incoming_phone_number", "sms_application_sid"): "^(AP[0-9a-fA-F]{32})?$",
}
_REQUIRED = re.compile(r"'(.+)' is a required property")

_load_lock = threading.Lock()
_specs: dict[Path, tuple[OpenAPI, dict[str, Any]]] = {}
_seen_lock = threading.Lock()
_seen_records: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class Exchange:
    """The parts of a request the checker needs."""

    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    content_type: str
    authorization: str | None


@dataclass(frozen=True)
class RequestCheck:
    problems: tuple[str, ...] = ()
    rejection: TwilioError | None = None  # the 400 the double answers, when the spec refuses


def _patch_quirks(spec: dict[str, Any]) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    for (schema, prop), pattern in _QUIRKS.items():
        if schema in schemas:
            field = schemas[schema]["properties"][prop]
            field.pop("minLength", None)
            field["pattern"] = pattern


def load_spec(path: Path) -> tuple[OpenAPI, dict[str, Any]]:
    """Parsed spec for one file, cached for the process."""
    with _load_lock:
        if path not in _specs:
            with path.open(encoding="utf-8") as handle:
                raw = json.load(handle)
            _patch_quirks(raw)
            # Twilio's files are pinned by checksum; skip openapi-spec-validator's slow pass.
            _specs[path] = (OpenAPI.from_dict(raw, config=Config(spec_validator_cls=None)), raw)
        return _specs[path]


def _schema_errors(exc: BaseException) -> list[jsonschema.ValidationError]:
    seen: BaseException | None = exc
    while seen is not None:
        errors = getattr(seen, "schema_errors", None)
        if errors:
            return list(errors)
        seen = seen.__cause__
    return []


def _describe(exc: BaseException) -> list[str]:
    errors = _schema_errors(exc)
    if not errors:
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        return [f"{exc}{cause}"]
    prefix = f"{getattr(exc, 'name', '')}: " if getattr(exc, "name", None) else ""
    return [f"{prefix}{'/'.join(map(str, e.path)) or '(body)'}: {e.message}" for e in errors]


def _rejection(errors: list[BaseException]) -> TwilioError | None:
    refused = [e for e in errors if not isinstance(e, PathError | SecurityValidationError)]
    if not refused:
        return None
    schema_errors = [s for e in refused for s in _schema_errors(e)]
    code = INVALID_PARAMETER
    if any(
        s.schema.get("format") == "http-method" for s in schema_errors if isinstance(s.schema, dict)
    ):
        code = INVALID_METHOD
    messages = [_twilio_message(s) for s in schema_errors] or [str(e) for e in refused]
    return TwilioError(
        400, code, messages[0], {"contract": [p for e in refused for p in _describe(e)]}
    )


def _twilio_message(error: jsonschema.ValidationError) -> str:
    found = _REQUIRED.match(error.message)
    if error.validator == "required" and found:
        return f"Missing required parameter {found.group(1)} in the post body"
    name = "/".join(map(str, error.path)) or "body"
    return f"Invalid parameter {name}: {error.message}"


def _declared(raw: dict[str, Any], template: str, method: str) -> set[str]:
    path_item = raw["paths"].get(template, {})
    operation = path_item.get(method.lower(), {})
    names = {
        p["name"] for p in [*path_item.get("parameters", []), *operation.get("parameters", [])]
    }
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        names.update(media.get("schema", {}).get("properties", {}))
    return names


def _digest(record: Any) -> str:
    return hashlib.sha1(
        json.dumps(record, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()


def _list_key(body: Any) -> str | None:
    if not isinstance(body, dict) or not ({"meta", "page_size"} & body.keys()):
        return None
    return next((key for key, value in body.items() if isinstance(value, list)), None)


class ContractChecker:
    """Validates exchanges for one double; specs and the record cache are process-wide."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def _spec(self, host: str) -> tuple[OpenAPI, dict[str, Any]]:
        return load_spec(self._directory / SPEC_FILES[host])

    @staticmethod
    def _mock(
        exchange: Exchange,
        host: str | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> MockRequest:
        headers = {"Authorization": exchange.authorization} if exchange.authorization else {}
        return MockRequest(
            f"https://{host or exchange.host}",
            (method or exchange.method).lower(),
            path or exchange.path,
            args=exchange.query,
            headers=headers,
            data=exchange.body,
            content_type=exchange.content_type,
        )

    def check_request(
        self, exchange: Exchange, template: str | None, form: dict[str, list[str]]
    ) -> RequestCheck:
        """Problems with a request to a spec-covered host, and the 400 to answer if refused."""
        spec, raw = self._spec(exchange.host)
        errors = list(spec.iter_request_errors(self._mock(exchange)))
        problems = [p for e in errors for p in _describe(e)]
        if template and not errors:
            declared = _declared(raw, template, exchange.method)
            problems += [
                f"parameter {name!r} is not in the spec"
                for name in sorted({*exchange.query, *form} - declared)
            ]
        if template is None and not errors:
            problems.append("the spec has this operation but the double does not implement it")
        return RequestCheck(tuple(problems), _rejection(errors))

    def check_response(self, exchange: Exchange, status: int, body: Any) -> list[str]:
        if status >= 400:
            return self._error_problems(status, body)
        if exchange.host == upload.HOST:
            host, path = upload.spec_twin(
                exchange.path, body.get("sid", "") if isinstance(body, dict) else ""
            )
            return self._validate(exchange, host, path, "GET", 200, body)
        return self._validate(exchange, exchange.host, exchange.path, exchange.method, status, body)

    @staticmethod
    def _error_problems(status: int, body: Any) -> list[str]:
        problems = [
            f"error body: {e.message}"
            for e in jsonschema.Draft7Validator(ERROR_SCHEMA).iter_errors(body)
        ]
        if isinstance(body, dict) and body.get("status") != status:
            problems.append(f"error body status {body.get('status')} != HTTP {status}")
        return problems

    def _validate(
        self, exchange: Exchange, host: str, path: str, method: str, status: int, body: Any
    ) -> list[str]:
        key = _list_key(body)
        fresh: dict[str, Any] = {}
        if key:
            with _seen_lock:
                fresh = {
                    d: r
                    for r in body[key]
                    if (d := _digest(r)) and (host, key, d) not in _seen_records
                }
            body = {**body, key: list(fresh.values())}
        data = b"" if body is None else json.dumps(body).encode()
        response = MockResponse(
            data, status_code=status, content_type="application/json" if data else ""
        )
        spec, _ = self._spec(host)
        errors = list(spec.iter_response_errors(self._mock(exchange, host, path, method), response))
        if not errors and fresh:
            with _seen_lock:
                _seen_records.update((host, key or "", digest) for digest in fresh)
        return [p for e in errors for p in _describe(e)]
