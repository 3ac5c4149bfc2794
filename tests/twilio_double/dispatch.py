"""One request through the double: parse, contract-check, faults, auth, route, answer, record.

The order matters and is part of the contract tests rely on:

1. parse the target ``/{host}{path}?{query}`` and the body (form or multipart); past the
   account's concurrent-request limit (:mod:`limits`) answer 429 (20429) now, after the
   request's contract check: no fault fires, nothing is processed or counted;
2. decide faults (latency is slept here, outside the state lock);
3. contract-check the request (violations are recorded even when a fault then fires);
4. a fault with ``applied=False`` answers now: nothing is processed or counted;
5. authenticate (401, code 20003), then route (404/405), then refuse what the spec refused
   (400), then, under the state lock, refuse what passes a documented limit (:mod:`limits`)
   and run the handler;
6. a fault with ``applied=True`` replaces the answer of the processed request;
7. contract-check the response, record the exchange.

Socket work (sending, resetting, hanging) is the server's; this module returns an Outcome.
Must not import: infra.*
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import upload
from .contract import ContractChecker, Exchange, RequestCheck
from .errors import (
    AUTHENTICATION_FAILED,
    INVALID_PARAMETER,
    TwilioError,
    not_found,
    status_error_body,
)
from .faults import Fault, Faults
from .limits import Limits
from .recording import Ledger, RecordedRequest, Violation
from .routing import Call, Reply, Route, RouteTable, Settings
from .spec_files import SPEC_FILES
from .state import AccountState, Upload

KNOWN_HOSTS = frozenset({*SPEC_FILES, upload.HOST})


@dataclass(frozen=True)
class Incoming:
    method: str
    target: str  # raw request target, e.g. /api.twilio.com/2010-04-01/…?PageSize=50
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What to send back. ``status=None`` means: send nothing, close (after ``hang`` s)."""

    status: int | None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    hang: float = 0.0


@dataclass
class Parsed:
    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    files: dict[str, Upload]
    content_type: str
    authorization: str | None
    body: bytes
    problems: list[str]  # body that could not be parsed as what it claims to be

    def exchange(self) -> Exchange:
        return Exchange(
            self.method,
            self.host,
            self.path,
            self.query,
            self.body,
            self.content_type,
            self.authorization,
        )


def parse(incoming: Incoming) -> Parsed:
    parts = urlsplit(incoming.target)
    host, _, rest = parts.path.lstrip("/").partition("/")
    content_type = incoming.headers.get("Content-Type") or ""
    form: dict[str, list[str]] = {}
    files: dict[str, Upload] = {}
    problems: list[str] = []
    if host == upload.HOST and incoming.method == "POST":
        form, files, problems = upload.parse(content_type, incoming.body)
    elif incoming.body and content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(incoming.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    query = parse_qs(parts.query, keep_blank_values=True)
    return Parsed(
        incoming.method, host, f"/{rest}", query, form, files, content_type,
        incoming.headers.get("Authorization"), incoming.body, problems,
    )  # fmt: skip


def _upload_check(parsed: Parsed) -> RequestCheck:
    """The upload host is not in the spec: check the documented multipart shape instead."""
    problems = parsed.problems or upload.shape_problems(parsed.form, parsed.files)
    if not problems:
        return RequestCheck()
    return RequestCheck(
        tuple(problems), TwilioError(400, INVALID_PARAMETER, problems[0], {"contract": problems})
    )


class Dispatcher:
    """Turns an Incoming into an Outcome against one double's state."""

    def __init__(
        self, *, state: AccountState, lock: threading.RLock, routes: RouteTable,
        settings: Settings, faults: Faults, ledger: Ledger, checker: ContractChecker,
        credentials: Callable[[], dict[str, str]], base_url: Callable[[], str],
        limits: Limits | None = None,
    ) -> None:  # fmt: skip
        self.state, self.lock, self.routes, self.settings = state, lock, routes, settings
        self.limits = limits or Limits()
        self.faults, self.ledger, self.checker = faults, ledger, checker
        self.credentials, self.base_url = credentials, base_url
        self.watchers: list[Callable[[str, AccountState], None]] = []
        """Called as ``watcher(kind, state)`` under the lock after each applied write."""

    def handle(self, incoming: Incoming) -> Outcome:
        received = time.monotonic()
        parsed = parse(incoming)
        record = RecordedRequest(
            parsed.method, parsed.host, parsed.path, parsed.query, parsed.form, parsed.files,
            received=received,
        )  # fmt: skip
        if not self.limits.enter_request():
            outcome = self._throttled(parsed, record)
        else:
            try:
                outcome = self._handle(parsed, record)
            finally:
                self.limits.leave_request()
        record.elapsed_s = time.monotonic() - received
        return outcome

    def _handle(self, parsed: Parsed, record: RecordedRequest) -> Outcome:
        plan = self.faults.plan(parsed.method, parsed.host, parsed.path)
        if plan.latency:
            time.sleep(plan.latency)
        route, params, route_error = self._route(parsed)
        check = self._check_request(parsed, route)
        if plan.fault and not plan.fault.applied:
            return self._faulted(record, plan.fault)
        reply, kind = self._answer(parsed, route, params, route_error, check)
        record.kind = kind
        if plan.fault:
            return self._faulted(record, plan.fault)
        return self._respond(record, parsed, reply)

    def _route(self, parsed: Parsed) -> tuple[Route | None, dict[str, str], TwilioError | None]:
        try:
            route, params = self.routes.find(parsed.method, parsed.host, parsed.path)
        except TwilioError as error:
            return None, {}, error
        return route, params, None

    def _check_request(self, parsed: Parsed, route: Route | None) -> RequestCheck:
        if parsed.host == upload.HOST:
            check = _upload_check(parsed)
        elif parsed.host in SPEC_FILES:
            check = self.checker.check_request(
                parsed.exchange(), route.template if route else None, parsed.form
            )
        else:
            check = RequestCheck(
                (f"unknown host {parsed.host!r}; known: {', '.join(sorted(KNOWN_HOSTS))}",)
            )
        if check.problems:
            self.ledger.add_violation(
                Violation("request", parsed.method, parsed.host, parsed.path, check.problems)
            )
        return check

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return self.credentials().get(user) == secret

    def _refusal(
        self,
        parsed: Parsed,
        params: dict[str, str],
        route_error: TwilioError | None,
        check: RequestCheck,
    ) -> TwilioError | None:
        """Why the request is not served: 401, then 404/405, then the spec's 400, then 404
        for another account's path."""
        if not self._authorized(parsed.authorization):
            return TwilioError(
                401, AUTHENTICATION_FAILED, "Authentication Error - invalid username"
            )
        if route_error or check.rejection:
            return route_error or check.rejection
        if params.get("AccountSid", self.state.account_sid) != self.state.account_sid:
            return not_found(parsed.path)
        return None

    def _answer(
        self, parsed: Parsed, route: Route | None, params: dict[str, str],
        route_error: TwilioError | None, check: RequestCheck,
    ) -> tuple[Reply, str | None]:  # fmt: skip
        failure = self._refusal(parsed, params, route_error, check)
        if failure is not None or route is None:
            failure = failure or not_found(parsed.path)
            return Reply(failure.status, failure.body()), None
        call = Call(
            self.state, self.settings, parsed.method, parsed.host, parsed.path, params,
            parsed.query, parsed.form, self.base_url(), parsed.files,
        )  # fmt: skip
        with self.lock:
            try:
                self.limits.admit(route.kind, call)
                reply = route.handler(call)
            except TwilioError as error:
                return Reply(error.status, error.body()), None
            self.limits.applied(route.kind)
            if route.kind:
                for watcher in list(self.watchers):
                    watcher(route.kind, self.state)
            # Serialise inside the lock: the body is live state another thread may change.
            reply = Reply(reply.status, json.loads(json.dumps(reply.body)))
        return reply, route.kind

    def _respond(self, record: RecordedRequest, parsed: Parsed, reply: Reply) -> Outcome:
        problems = self._check_response(parsed, reply.status, reply.body)
        if problems:
            self.ledger.add_violation(
                Violation("response", parsed.method, parsed.host, parsed.path, tuple(problems))
            )
        record.status, record.response_body = reply.status, reply.body
        self.ledger.add_request(record)
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        return Outcome(
            reply.status,
            data,
            (("Content-Type", "application/json; charset=utf-8"),) if data else (),
        )

    def _check_response(self, parsed: Parsed, status: int, body: Any) -> list[str]:
        if parsed.host not in KNOWN_HOSTS:
            return []
        return self.checker.check_response(parsed.exchange(), status, body)

    def _throttled(self, parsed: Parsed, record: RecordedRequest) -> Outcome:
        """Past the concurrent-request limit: checked and recorded, never processed."""
        self._check_request(parsed, self._route(parsed)[0])
        error = self.limits.throttled()
        record.fault = "limit: concurrent_requests"
        record.status, record.response_body = error.status, error.body()
        self.ledger.add_request(record)
        headers = [("Content-Type", "application/json; charset=utf-8")]
        retry_after = self.limits.values.retry_after
        if retry_after is not None:
            headers.append(("Retry-After", f"{retry_after:g}"))
        return Outcome(error.status, json.dumps(error.body()).encode(), tuple(headers))

    def _faulted(self, record: RecordedRequest, fault: Fault) -> Outcome:
        record.fault = fault.describe()
        if fault.status is None:
            self.ledger.add_request(record)
            return Outcome(None, hang=fault.hang or 0.0)
        body = status_error_body(fault.status)
        record.status, record.response_body = fault.status, body
        self.ledger.add_request(record)
        headers = [("Content-Type", "application/json; charset=utf-8")]
        if fault.retry_after is not None:
            headers.append(("Retry-After", f"{fault.retry_after:g}"))
        return Outcome(fault.status, json.dumps(body).encode(), tuple(headers))
