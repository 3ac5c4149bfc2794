"""Virtual time and journeys: the discrete-event core that the call engine runs on.

Every call (and every agent leg TaskRouter places) is a generator process. A process yields
commands and is resumed by :class:`Simulation` when the command completes, in simulated
seconds: nothing sleeps, so a 300 s queue hold costs microseconds.

- ``yield Sleep(s)`` resumes after ``s`` seconds with ``None``;
- ``yield Wait(signal, timeout)`` resumes with the value passed to ``signal.fire(value)``, or
  with ``None`` once ``timeout`` seconds passed first (``timeout=None``: wait forever).

A :class:`Journey` is what one caller lived through: the steps they heard and did (each a
:class:`Step` stamped with the simulated second it started), the outcome, and the state the
call changed. ``str(journey)`` prints it one step per line.
Must not import: infra.*
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

Process = Generator[Any, Any, Any]


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass
class Signal:
    """A one-shot event a process can wait on; fired at most once."""

    name: str = ""
    fired: bool = False
    value: Any = None
    waiters: list[tuple[int, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Wait:
    signal: Signal
    timeout: float | None = None


class Simulation:
    """A virtual clock and the processes scheduled on it (single-threaded, deterministic)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, int, int, Any]] = []  # time, seq, token, gen, value
        self._seq = itertools.count()
        self._tokens = itertools.count(1)
        self._live: dict[int, tuple[Process, Callable[[Any], None] | None]] = {}
        self._generation: dict[int, int] = {}

    def spawn(
        self, process: Process, *, delay: float = 0.0, done: Callable[[Any], None] | None = None
    ) -> int:
        """Start ``process`` after ``delay`` s; ``done(result)`` is called when it returns."""
        token = next(self._tokens)
        self._live[token] = (process, done)
        self._generation[token] = 0
        self._push(self.now + delay, token, None)
        return token

    def fire(self, signal: Signal, value: Any = True) -> None:
        """Wake every process waiting on ``signal`` now, with ``value``."""
        if signal.fired:
            return
        signal.fired, signal.value = True, value
        for token, generation in signal.waiters:
            heapq.heappush(self._heap, (self.now, next(self._seq), token, generation, value))
        signal.waiters.clear()

    def at(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action()`` after ``delay`` seconds (a timer)."""

        def timer() -> Process:
            yield Sleep(delay)
            action()

        self.spawn(timer())

    def run(self, until: float | None = None) -> None:
        """Advance time until nothing is scheduled (or ``until`` is reached)."""
        while self._heap:
            moment, _, token, generation, value = self._heap[0]
            if until is not None and moment > until:
                self.now = until
                return
            heapq.heappop(self._heap)
            if token not in self._live or generation != self._generation[token]:
                continue  # a stale wake-up: the wait already ended the other way
            self.now = max(self.now, moment)
            self._step(token, value)

    def _push(self, moment: float, token: int, value: Any) -> None:
        entry = (moment, next(self._seq), token, self._generation[token], value)
        heapq.heappush(self._heap, entry)

    def _step(self, token: int, value: Any) -> None:
        process, done = self._live[token]
        self._generation[token] += 1
        try:
            command = process.send(value)
        except StopIteration as stop:
            del self._live[token]
            if done is not None:
                done(stop.value)
            return
        if isinstance(command, Sleep):
            self._push(self.now + max(0.0, command.seconds), token, None)
        elif isinstance(command, Wait):
            if command.signal.fired:
                self._push(self.now, token, command.signal.value)
                return
            command.signal.waiters.append((token, self._generation[token]))
            if command.timeout is not None:
                self._push(self.now + max(0.0, command.timeout), token, None)
        else:
            raise TypeError(f"a call process yielded {command!r}; expected Sleep or Wait")


@dataclass(frozen=True)
class Step:
    """One thing the caller heard or did, at simulated second ``at``."""

    at: float
    kind: str  # say, play, pause, dial, record, enqueue, hold, bridged, leave, hangup, error…
    text: str

    def __str__(self) -> str:
        return f"{self.at:7.1f}s  {self.kind} {self.text}".rstrip()


@dataclass
class Journey:
    """One call, start to end, as the caller lived it (see module doc).

    ``outcome`` is one of ``answered`` (``answered_by`` says who: a number, ``voicemail of
    +1…``, or ``agent <name>``), ``voicemail`` (``recording_sid`` left on ``line``),
    ``message`` (a spoken message, then hangup), ``application-error`` (Twilio's own error
    message), ``caller-hung-up``, ``hung-up`` (the call ended without any of the above)."""

    call_sid: str
    to: str
    from_: str
    started: float
    steps: list[Step] = field(default_factory=list)
    outcome: str = ""
    answered_by: str | None = None
    recording_sid: str | None = None
    ended: float | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [step.kind for step in self.steps]

    def said(self) -> list[str]:
        return [step.text for step in self.steps if step.kind == "say"]

    def find(self, kind: str) -> list[Step]:
        return [step for step in self.steps if step.kind == kind]

    @property
    def duration(self) -> float:
        return (self.ended if self.ended is not None else self.started) - self.started

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_sid": self.call_sid, "to": self.to, "from": self.from_,
            "outcome": self.outcome, "answered_by": self.answered_by,
            "recording_sid": self.recording_sid, "started": self.started, "ended": self.ended,
            "steps": [{"at": s.at, "kind": s.kind, "text": s.text} for s in self.steps],
            "requests": self.requests, "changes": self.changes,
        }  # fmt: skip

    def __str__(self) -> str:
        head = f"call {self.from_} -> {self.to}: {self.outcome}"
        if self.answered_by:
            head += f" by {self.answered_by}"
        return "\n".join([head, *(f"  {step}" for step in self.steps)])
