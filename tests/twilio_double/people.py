"""Scripted people: the caller placing a call, and whoever a call rings (callees, agents).

A callee script says what a phone does when it rings::

    Callee.parse("answer")          # picks up after 5 s, talks 60 s
    Callee.parse("answer:8")        # picks up after 8 s
    Callee.parse("no-answer")       # rings until the dialer gives up
    Callee.parse("busy")            # busy signal after 1 s
    Callee.parse("failed")          # the call cannot be placed (1 s)
    Callee.parse("voicemail")       # the phone's own voicemail picks up after 15 s
    Callee.parse("voicemail:25")
    Callee.parse("decline")         # a person picks up after 5 s but turns a whisper down

When a whisper on the answered leg asks for a key (``<Gather>``, :mod:`.callee_leg`), a
person (``answer``) presses 1, a person who declines (``decline``) presses 2, and a voicemail
presses nothing. Without a whisper ``decline`` is a person who talks.

A number may have a list of scripts: the first call to it uses the first, the next call the
next, the last one repeats (``["answer", "no-answer"]``: answers once, then never). A number
nobody scripted rings out (``no-answer``).
Must not import: infra.*
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

KINDS = ("answer", "no-answer", "busy", "failed", "voicemail", "decline")
PICK_UP = ("answer", "voicemail", "decline")
"""Kinds whose phone is answered (by a person or by their voicemail)."""
DEFAULT_AFTER = {
    "answer": 5.0, "voicemail": 15.0, "busy": 1.0, "failed": 1.0, "no-answer": 0.0,
    "decline": 5.0,
}  # fmt: skip


@dataclass(frozen=True)
class Callee:
    kind: str = "no-answer"
    after: float | None = None  # seconds of ringing before it happens
    talk: float = 60.0  # seconds a conversation lasts once answered by a person

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown callee outcome {self.kind!r}; one of {KINDS}")

    @property
    def delay(self) -> float:
        return DEFAULT_AFTER[self.kind] if self.after is None else self.after

    @classmethod
    def parse(cls, spec: str | Callee) -> Callee:
        if isinstance(spec, Callee):
            return spec
        kind, _, after = spec.strip().partition(":")
        return cls(kind, float(after) if after else None)


CalleeScripts = Mapping[str, "str | Callee | Sequence[str | Callee]"]


@dataclass
class CalleeBook:
    """Scripts by E.164 number, consumed call by call (see module doc)."""

    scripts: dict[str, list[Callee]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def update(self, scripts: CalleeScripts | None) -> None:
        for number, spec in (scripts or {}).items():
            items = [spec] if isinstance(spec, str | Callee) else list(spec)
            self.scripts[number] = [Callee.parse(item) for item in items]

    def next_for(self, number: str) -> Callee:
        script = self.scripts.get(number) or [Callee("no-answer")]
        index = self.calls.get(number, 0)
        self.calls[number] = index + 1
        return script[min(index, len(script) - 1)]


@dataclass(frozen=True)
class Caller:
    """What the person calling does.

    ``hangup_after``: hangs up that many seconds into the call (``None``: never by
    impatience); ``message_seconds``: how long a voicemail message they speak (0: silent);
    ``talk_seconds``: length of a conversation once a person answers, after which the caller
    hangs up."""

    hangup_after: float | None = None
    message_seconds: float = 12.0
    talk_seconds: float = 60.0
