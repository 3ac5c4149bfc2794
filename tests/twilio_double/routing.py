"""Routes of the double: (method, host, spec path template) -> handler, plus the call context.

Templates are written exactly as the path keys of Twilio's OpenAPI files
(``/v2/Flows/{Sid}``, ``/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json``), so
a test can check that every route exists in the spec, and the contract checker can find the
operation a request was routed to. An unknown path answers 404 listing what the double serves
(as twilio-python's Holodeck does), a known path with another method 405.
Must not import: infra.*
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import METHOD_NOT_ALLOWED, TwilioError, invalid
from .state import AccountState, Upload

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Settings:
    """Behaviour knobs of one double (see ``TwilioDouble.__init__``)."""

    build_reads: int = 1


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None


def ok(body: Any) -> Reply:
    return Reply(200, body)


def created(body: Any) -> Reply:
    return Reply(201, body)


def no_content() -> Reply:
    return Reply(204, None)


@dataclass
class Call:
    """One routed request as a handler sees it; read parameters through the helpers."""

    state: AccountState
    settings: Settings
    method: str
    host: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    base_url: str
    files: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.form

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.form.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.form.get(name, []))

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        value = self.arg(name)
        if value is None:
            return default
        return value.strip().lower() in ("true", "1", "yes")

    def query_arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def query_flag(self, name: str) -> bool | None:
        value = self.query_arg(name)
        return None if value is None else value.strip().lower() in ("true", "1", "yes")

    def integer(self, name: str, default: int) -> int:
        value = self.arg(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise invalid(f"{name} must be an integer") from exc


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    host: str
    template: str
    handler: Handler
    kind: str | None  # write kind counted when the handler succeeds
    pattern: re.Pattern[str]

    def match(self, host: str, path: str) -> dict[str, str] | None:
        if host != self.host:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None

    def __str__(self) -> str:
        return f"{self.method} {self.host}{self.template}"


def _compile(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(regex)


class RouteTable:
    """A set of routes; product modules fill one each, the double merges them."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(
        self, method: str, host: str, template: str, *, kind: str | None = None
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, host, template, handler, kind, _compile(template)))
            # Literal templates (/v2/Flows/Validate) win over placeholders (/v2/Flows/{Sid}).
            self.routes.sort(key=lambda r: len(_PLACEHOLDER.findall(r.template)))
            return handler

        return register

    def extend(self, other: RouteTable) -> None:
        self.routes.extend(other.routes)
        self.routes.sort(key=lambda r: len(_PLACEHOLDER.findall(r.template)))

    def find(self, method: str, host: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for a request, or a TwilioError (404 listing known routes, or 405)."""
        allowed: list[str] = []
        for route in self.routes:
            params = route.match(host, path)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.append(route.method)
        if allowed:
            raise TwilioError(
                405, METHOD_NOT_ALLOWED, f"Method {method} not allowed; use {', '.join(allowed)}"
            )
        raise TwilioError(
            404,
            20404,
            f"The requested resource {path} was not found",
            {"double": "no route matches", "routes": [str(r) for r in self.routes]},
        )
