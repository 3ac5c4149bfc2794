"""Fault injection for the double, switchable per test through ``d.faults``.

Each :meth:`Faults.add` call registers one fault; when several match a request the first
registered fires (latency faults always add up and never stop the request)::

    d.faults.add(status=429, retry_after=1, times=3, match="POST studio.twilio.com /v2/Flows")
    d.faults.add(status=429)                          # no Retry-After header, every request
    d.faults.add(status=503, times=1)                 # 500/502/503/504 likewise
    d.faults.add(reset=True, times=1, match="POST")   # close the connection without a response
    d.faults.add(latency=0.1)                         # delay every request by 100 ms
    d.faults.add(hang=True, times=1)                  # hold the request (30 s or until stop),
    d.faults.add(hang=2.0)                            #   then close it unanswered
    d.faults.add(fail_nth_write=3)                    # 3rd write from now: 500, not applied
    d.faults.add(fail_nth_write=3, applied=True, reset=True)  # applied, client never hears
    d.faults.clear()

``match`` is up to three space-separated parts in any order: a method (``POST``), a host
(``studio.twilio.com``) and a path glob (``/v2/Flows`` exact, ``/v2/Flows/*``). Omitted parts
match anything. ``times`` limits how often a fault fires (default: forever; 1 for
``fail_nth_write``). A *write* is any POST or DELETE (including ``Flows/Validate``).

``applied=False`` (default): the request is not processed, nothing changes, no write is
counted. ``applied=True``: the request is processed and counted, then the answer is replaced
by the fault: the "it happened but the client saw an error" case idempotency tests need.
Must not import: infra.*
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field

HTTP_METHODS = frozenset({"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"})
DEFAULT_HANG_SECONDS = 30.0


@dataclass(frozen=True)
class Matcher:
    method: str | None = None
    host: str | None = None
    path: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Matcher:
        method = host = path = None
        for part in (text or "").split():
            if part.upper() in HTTP_METHODS:
                method = part.upper()
            elif part.startswith("/"):
                path = part
            elif "." in part:
                host = part.lower()
            else:
                raise ValueError(f"cannot read {part!r} in fault match {text!r}")
        return cls(method, host, path)

    def __call__(self, method: str, host: str, path: str) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.host is None or self.host == host)
            and (self.path is None or fnmatch.fnmatchcase(path, self.path))
        )


@dataclass
class Fault:
    """One registered fault; ``fired`` counts how often it acted."""

    matcher: Matcher
    status: int | None = None
    retry_after: float | None = None
    reset: bool = False
    latency: float = 0.0
    hang: float | None = None
    times: int | None = None
    nth_write: int | None = None
    applied: bool = False
    fired: int = 0
    _writes_seen: int = field(default=0, repr=False)

    @property
    def blocking(self) -> bool:
        """Whether it replaces the answer (as opposed to only delaying it)."""
        return self.status is not None or self.reset or self.hang is not None

    def describe(self) -> str:
        if self.reset:
            what = "reset"
        elif self.hang is not None:
            what = f"hang {self.hang:g}s"
        else:
            what = f"status {self.status}"
        return f"{what}{' after applying' if self.applied else ''}"


@dataclass(frozen=True)
class Plan:
    """What the faults do to one request."""

    latency: float = 0.0
    fault: Fault | None = None


class Faults:
    """The faults of one double. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        reset: bool = False,
        latency: float = 0.0,
        hang: bool | float = False,
        times: int | None = None,
        match: str | None = None,
        fail_nth_write: int | None = None,
        applied: bool = False,
    ) -> Fault:
        """Register a fault (see the module docstring); returns it so tests can read ``fired``."""
        hang_seconds = DEFAULT_HANG_SECONDS if hang is True else (float(hang) if hang else None)
        if fail_nth_write is not None:
            if fail_nth_write < 1:
                raise ValueError("fail_nth_write counts from 1")
            times = 1 if times is None else times
            if status is None and not reset and hang_seconds is None:
                status = 500
        fault = Fault(
            Matcher.parse(match), status, retry_after, reset, latency, hang_seconds, times,
            fail_nth_write, applied,
        )  # fmt: skip
        if not fault.blocking and not latency:
            raise ValueError("a fault needs status, reset, hang, latency or fail_nth_write")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """The registered faults, including spent ones (read ``fired``)."""
        with self._lock:
            return list(self._faults)

    def plan(self, method: str, host: str, path: str) -> Plan:
        """Decide, once per request, the latency to add and the fault (if any) that fires."""
        is_write = method in ("POST", "DELETE")
        latency, chosen = 0.0, None
        with self._lock:
            for fault in self._faults:
                if (fault.times is not None and fault.fired >= fault.times) or not fault.matcher(
                    method, host, path
                ):
                    continue
                if fault.nth_write is not None:
                    if not is_write:
                        continue
                    fault._writes_seen += 1
                    if fault._writes_seen != fault.nth_write:
                        continue
                if fault.blocking and chosen is not None:
                    continue
                fault.fired += 1
                latency += fault.latency
                if fault.blocking:
                    chosen = fault
        return Plan(latency, chosen)
