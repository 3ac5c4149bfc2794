"""Twilio's documented limits, enforced by the double: a deploy that would fail on Twilio fails here.

Every limit is on by default with Twilio's default value, and can be changed per test::

    d = TwilioDouble(limits={"asset_versions_per_build": 5})   # at construction
    d.limits.set(concurrent_requests=2, retry_after=1)          # at runtime
    d.limits.set(builds_per_hour=None)                          # None: no limit
    d.limits.reset()                                            # Twilio's defaults again
    d.limits.clock = lambda: 1000.0                             # time source of the rate limits

The call engine asks ``d.limits.studio_execution_allowed(now)`` ("may an inbound Studio
execution start at ``now`` seconds?"; ``trigger="rest"`` for the REST Executions API). An
allowed start is counted; past the limit Twilio answers 429 (the number's fallback URL is
requested for an inbound call), see :meth:`Limits.studio_execution_refusal`.

| limit (``name``) | default | Twilio code | documentation |
| --- | --- | --- | --- |
| Serverless services per account (``services_per_account``) | 10 | 400, 21102 [a] | [S], [E21102] |
| environments per service (``environments_per_service``) | 25 | 400, 20001 [u] | [S] |
| public+protected asset versions per build (``asset_versions_per_build``) | 1,000 | 400, 20001 [u] | [S] |
| private asset versions per build (``private_asset_versions_per_build``) | 50 | 400, 20001 [u] | [S] |
| function versions per build (``function_versions_per_build``) | 50 | 400, 20001 [u] | [S] |
| builds per hour, per account (``builds_per_hour``) | 100 | 429, 20429 [u] | [S] |
| bytes per asset version (``asset_version_bytes``) | 25 MB | 400, 20001 [u] | [A] |
| Studio widgets (states) per flow (``flow_states``) | 1,000 [b] | 400, 81022 | [J], [F], [E81022] |
| new inbound Studio executions per second (``studio_inbound_executions_per_second``) | 100 | 429, 20429 [c] | [F] |
| new REST Studio executions per second (``studio_rest_executions_per_second``) | 20 | 429, 20429 [c] | [F] |
| concurrent REST requests per account (``concurrent_requests``) | 100 [d] | 429, 20429 | [E20429], [K429] |
| TaskRouter workers per workspace (``workers_per_workspace``) | 15,000 | 400, 20001 [u] | [T] |
| TaskRouter task queues per workspace (``task_queues_per_workspace``) | 5,000 | 400, 20001 [u] | [T] |
| TaskRouter workflows per workspace (``workflows_per_workspace``) | 1,000 | 400, 20001 [u] | [T] |
| TaskRouter activities per workspace (``activities_per_workspace``) | 100 | 400, 20001 [u] | [T] |
| TaskRouter task channels per workspace (``task_channels_per_workspace``) | 15 | 400, 20001 [u] | [T] |

- [u] unconfirmed: the limit is documented, its error code is not; the code is our pick.
- [a] 21102 "Reached maximum number of Services" is documented per product; that Serverless
  answers it (and with HTTP 400) is unconfirmed.
- [b] Twilio's flow-definition JSON schema ([J]) caps ``states`` at 1,000 items; the Studio FAQ
  ([F]) says 2,000 widgets per flow. The REST API validates against the schema, so the double
  refuses past 1,000 with 81022 (the schema-validation code, [E81022]).
- [c] [F] documents the 429; the code 20429 is unconfirmed. Inbound: Twilio requests the
  number's fallback URL instead of starting the flow.
- [d] Twilio documents concurrency-based 429s (20429) without a number; 100 is commonly
  cited (unconfirmed). ``retry_after`` (seconds, default None) adds a ``Retry-After`` header.
- Executions per second are counted over a sliding one-second window, builds over one hour.
- Limits not modelled because the double has no such resource or verb: TwiML ``<Record
  maxLength>`` (14,400 s, no TwiML is executed), Studio execution steps (1,000) and duration.

[S] https://www.twilio.com/docs/runtime/functions-assets-api (section "Limits")
[E21102] https://www.twilio.com/docs/api/errors/21102
[A] https://support.twilio.com/hc/en-us/articles/360019105433 (25 MB per public/protected
    asset; stated for Console assets, applied here to API asset versions: unconfirmed)
[J] https://www.twilio.com/docs/studio/rest-api/v2/schemas (``states`` maxItems 1000)
[F] https://www.twilio.com/docs/studio/user-guide/studio-faq (rate and flow limits)
[E81022] https://www.twilio.com/docs/api/errors/81022
[E20429] https://www.twilio.com/docs/api/errors/20429
[K429] https://support.twilio.com/hc/en-us/articles/360044308153
[T] https://www.twilio.com/docs/taskrouter/limits
Must not import: infra.*
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from . import flow_definition
from .errors import (
    FLOW_DEFINITION_INVALID,
    INVALID_PARAMETER,
    TOO_MANY_REQUESTS,
    TwilioError,
)
from .routing import Call

SERVICES_LIMIT_REACHED = 21102  # documented; its use by Serverless is unconfirmed
LIMIT_EXCEEDED = INVALID_PARAMETER  # unconfirmed: Twilio documents no code for these limits
MB = 1024 * 1024


@dataclass(frozen=True)
class Values:
    """The limit values; ``None`` switches a limit off. Defaults are Twilio's (see module doc)."""

    services_per_account: int | None = 10
    environments_per_service: int | None = 25
    asset_versions_per_build: int | None = 1000
    private_asset_versions_per_build: int | None = 50
    function_versions_per_build: int | None = 50
    builds_per_hour: int | None = 100
    asset_version_bytes: int | None = 25 * MB
    flow_states: int | None = 1000
    studio_inbound_executions_per_second: int | None = 100
    studio_rest_executions_per_second: int | None = 20
    concurrent_requests: int | None = 100
    retry_after: float | None = None
    workers_per_workspace: int | None = 15_000
    task_queues_per_workspace: int | None = 5_000
    workflows_per_workspace: int | None = 1_000
    activities_per_workspace: int | None = 100
    task_channels_per_workspace: int | None = 15


NAMES = tuple(f.name for f in fields(Values))

# TaskRouter ``<Resource>.create`` kind -> (state table, limit name)
_WORKSPACE_CHILDREN = {
    "Worker.create": ("workers", "workers_per_workspace"),
    "TaskQueue.create": ("task_queues", "task_queues_per_workspace"),
    "Workflow.create": ("workflows", "workflows_per_workspace"),
    "Activity.create": ("activities", "activities_per_workspace"),
    "TaskChannel.create": ("task_channels", "task_channels_per_workspace"),
}


def _exceeded(status: int, code: int, message: str, limit: str, value: int) -> TwilioError:
    return TwilioError(status, code, message, {"limit": limit, "value": value})


class Limits:
    """The limits of one double: values, plus the counters the rate limits need. Thread-safe."""

    def __init__(self, values: Values | Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.values = Values()
        self.clock: Callable[[], float] = time.monotonic
        """Seconds; the time source for builds per hour and executions per second."""
        self._in_flight = 0
        self._builds: deque[float] = deque()
        self._executions: dict[str, deque[float]] = {"inbound": deque(), "rest": deque()}
        if isinstance(values, Values):
            self.values = values
        elif values:
            self.set(**values)

    # -- switching ---------------------------------------------------------------------------
    def set(self, **changes: Any) -> Values:
        """Change some limits (``None`` = off); returns the values before the change."""
        unknown = set(changes) - set(NAMES)
        if unknown:
            raise TypeError(f"unknown limit(s) {sorted(unknown)}; known: {', '.join(NAMES)}")
        with self._lock:
            before, self.values = self.values, replace(self.values, **changes)
        return before

    def reset(self) -> None:
        """Twilio's defaults again; forget the counted builds and executions."""
        with self._lock:
            self.values = Values()
            self._builds.clear()
            for window in self._executions.values():
                window.clear()

    def off(self) -> None:
        """Switch every limit off (the double accepts anything, as before limits existed)."""
        self.set(**dict.fromkeys(NAMES))

    # -- REST concurrency (dispatcher) ---------------------------------------------------------
    def enter_request(self) -> bool:
        """Count a request in flight, or False (not counted) when the account is at its limit."""
        with self._lock:
            limit = self.values.concurrent_requests
            if limit is not None and self._in_flight >= limit:
                return False
            self._in_flight += 1
            return True

    def leave_request(self) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def throttled(self) -> TwilioError:
        return TwilioError(
            429, TOO_MANY_REQUESTS, "Too Many Requests: concurrent request limit reached",
            {"limit": "concurrent_requests", "value": self.values.concurrent_requests},
        )  # fmt: skip

    # -- Studio executions (call engine) -------------------------------------------------------
    def studio_execution_allowed(self, now: float | None = None, trigger: str = "inbound") -> bool:
        """May a new Studio execution start at ``now`` (seconds, default ``clock()``)?

        ``trigger`` is ``"inbound"`` (incoming call/message) or ``"rest"`` (Executions API).
        An allowed start is counted in the sliding one-second window; a refused one is not."""
        name = f"studio_{trigger}_executions_per_second"
        if trigger not in self._executions:
            raise ValueError(f"trigger must be 'inbound' or 'rest', not {trigger!r}")
        with self._lock:
            moment = self.clock() if now is None else now
            return self._admit(self._executions[trigger], moment, 1.0, getattr(self.values, name))

    def studio_execution_refusal(self, trigger: str = "inbound") -> TwilioError:
        """The error past the execution rate (Twilio's debugger logs the same 429 for inbound)."""
        name = f"studio_{trigger}_executions_per_second"
        return _exceeded(
            429, TOO_MANY_REQUESTS, f"Too Many Requests: more than {getattr(self.values, name)} "
            f"new {trigger} Studio executions per second", name, getattr(self.values, name),
        )  # fmt: skip

    @staticmethod
    def _admit(window: deque[float], moment: float, span: float, limit: int | None) -> bool:
        while window and window[0] <= moment - span:
            window.popleft()
        if limit is not None and len(window) >= limit:
            return False
        window.append(moment)
        return True

    # -- resource limits (dispatcher, before and after each routed handler) ---------------------
    def admit(self, kind: str | None, call: Call) -> None:
        """Raise the TwilioError Twilio answers when the write ``kind`` would pass a limit."""
        check = _CHECKS.get(kind or "")
        if kind in _WORKSPACE_CHILDREN:
            _workspace_child(self.values, kind, call)
        elif check is not None:
            check(self, call)

    def applied(self, kind: str | None) -> None:
        """Count an applied write that a rate limit counts (builds)."""
        if kind == "Build.create":
            with self._lock:
                self._builds.append(self.clock())

    def check_build_rate(self) -> None:
        """Raise Twilio's answer when the account made ``builds_per_hour`` builds in the hour."""
        limit = self.values.builds_per_hour
        with self._lock:
            window, moment = self._builds, self.clock()
            while window and window[0] <= moment - 3600:
                window.popleft()
            made = len(window)
        if limit is not None and made >= limit:
            raise _exceeded(
                429, TOO_MANY_REQUESTS, f"Build limit reached: {limit} builds per hour per account",
                "builds_per_hour", limit,
            )  # fmt: skip


def _services(limits: Limits, call: Call) -> None:
    limit = limits.values.services_per_account
    if limit is not None and len(call.state.services) >= limit:
        raise _exceeded(
            400, SERVICES_LIMIT_REACHED, f"Reached maximum number of Services ({limit})",
            "services_per_account", limit,
        )  # fmt: skip


def _environments(limits: Limits, call: Call) -> None:
    limit = limits.values.environments_per_service
    ref = call.params.get("ServiceSid", "")
    service = next(
        (s for s in call.state.services.values() if ref in (s["sid"], s["unique_name"])), None
    )
    if limit is None or service is None:
        return
    count = len(call.state.children(call.state.environments, "service_sid", service["sid"]))
    if count >= limit:
        raise _exceeded(
            400, LIMIT_EXCEEDED, f"A Service can have at most {limit} Environments",
            "environments_per_service", limit,
        )  # fmt: skip


def _build(limits: Limits, call: Call) -> None:
    values, state = limits.values, call.state
    assets = [state.asset_versions.get(sid) for sid in call.args("AssetVersions")]
    private = sum(1 for v in assets if v is not None and v["visibility"] == "private")
    counts = {
        "asset_versions_per_build": len(assets) - private,
        "private_asset_versions_per_build": private,
        "function_versions_per_build": len(call.args("FunctionVersions")),
    }
    for name, count in counts.items():
        limit = getattr(values, name)
        if limit is not None and count > limit:
            what = name.removesuffix("_per_build").replace("_", " ")
            raise _exceeded(
                400, LIMIT_EXCEEDED, f"A Build can contain at most {limit} {what} ({count} given)",
                name, limit,
            )  # fmt: skip
    limits.check_build_rate()


def _version_size(limits: Limits, call: Call) -> None:
    limit, content = limits.values.asset_version_bytes, call.files.get("Content")
    if limit is not None and content is not None and len(content.data) > limit:
        raise _exceeded(
            400, LIMIT_EXCEEDED, f"Asset files can be at most {limit} bytes",
            "asset_version_bytes", limit,
        )  # fmt: skip


def _flow_states(limits: Limits, call: Call) -> None:
    limit = limits.values.flow_states
    parsed, problems = flow_definition.parse(call.arg("Definition"))
    if limit is None or problems or not isinstance(parsed.get("states"), list):
        return
    if len(parsed["states"]) > limit:
        message = f"states: array has {len(parsed['states'])} items, maximum is {limit}"
        raise TwilioError(
            400, FLOW_DEFINITION_INVALID, "Invalid Flow Definition",
            {"errors": [{"message": message, "property_path": "#/states"}]},
        )  # fmt: skip


def _workspace_child(values: Values, kind: str, call: Call) -> None:
    table_name, name = _WORKSPACE_CHILDREN[kind]
    limit, workspace = getattr(values, name), call.params.get("WorkspaceSid", "")
    if limit is None or workspace not in call.state.workspaces:
        return
    table = getattr(call.state, table_name)
    if len(call.state.children(table, "workspace_sid", workspace)) >= limit:
        what = name.removesuffix("_per_workspace").replace("_", " ")
        raise _exceeded(
            400, LIMIT_EXCEEDED, f"A Workspace can have at most {limit} {what}", name, limit
        )


_CHECKS: dict[str, Callable[[Limits, Call], None]] = {
    "Service.create": _services,
    "Environment.create": _environments,
    "Build.create": _build,
    "AssetVersion.create": _version_size,
    "Flow.create": _flow_states,
    "Flow.update": _flow_states,
    "Flow.validate": _flow_states,
}
