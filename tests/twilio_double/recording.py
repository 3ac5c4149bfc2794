"""What the double saw: recorded requests, contract violations and applied writes.

Every request is recorded, whatever became of it (401, 404, a fault, a reset). A *write* is a
request that changed (or, for ``Flow.validate``, was processed by) the account; it is counted
under its kind, ``"<Resource>.<action>"``, only when applied, e.g. ``IncomingPhoneNumber.update``,
``Flow.create``, ``Flow.validate``, ``AssetVersion.create``, ``Build.create``,
``Deployment.create``, ``Worker.create``. The full list is :data:`WRITE_KINDS`.
Must not import: infra.*
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .state import Upload

_RESOURCES_CRUD = (
    "Flow Service Asset Function Workspace Activity TaskQueue Workflow Worker TaskChannel"
).split()

WRITE_KINDS: frozenset[str] = frozenset(
    [
        f"{resource}.{action}"
        for resource in _RESOURCES_CRUD
        for action in ("create", "update", "delete")
    ]
    + [
        "IncomingPhoneNumber.update",
        "IncomingPhoneNumber.delete",
        "Flow.validate",
        "Environment.create",
        "Environment.delete",
        "AssetVersion.create",
        "FunctionVersion.create",
        "Build.create",
        "Build.delete",
        "Deployment.create",
        "Recording.delete",
    ]
)


@dataclass
class RecordedRequest:
    """One request as received, and what the double answered."""

    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    files: dict[str, Upload] = field(default_factory=dict)
    status: int | None = None  # None: the connection was reset or left hanging
    response_body: Any = None  # parsed JSON, or None (204, reset, hang)
    kind: str | None = None  # write kind, set when the write was applied
    fault: str | None = None  # description of the injected fault, if any
    received: float = 0.0  # time.monotonic() when the double received it
    elapsed_s: float | None = None  # until the answer was decided, injected latency included

    def __str__(self) -> str:
        answer = "no answer" if self.status is None else str(self.status)
        extra = f" [{self.fault}]" if self.fault else ""
        return f"{self.method} {self.host}{self.path} -> {answer}{extra}"


@dataclass(frozen=True)
class Violation:
    """A request or response that does not match Twilio's contract."""

    direction: str  # "request" or "response"
    method: str
    host: str
    path: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.direction} {self.method} {self.host}{self.path}: " + "; ".join(self.problems)


class Ledger:
    """Thread-safe store of requests, violations and applied writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self._writes: Counter[str] = Counter()

    def add_request(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            if request.kind:
                self._writes[request.kind] += 1

    def add_violation(self, violation: Violation) -> None:
        with self._lock:
            self.violations.append(violation)

    def writes(self) -> Counter[str]:
        with self._lock:
            return Counter(self._writes)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.violations.clear()
            self._writes.clear()
