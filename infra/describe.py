"""Say in plain words what each line does normally and when its primary fails.

Shared by ``plan``, ``diff`` and the Markdown/Mermaid reports, so a reviewer reads the same
sentence everywhere. Everything here derives from ``Line.failover_chain()``.
Must not import: twilio, pulumi, yaml, infra.lines.load, infra.providers, infra.cli.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any

import phonenumbers

from infra.model import (
    DEFAULT_QUEUE_RING_S,
    FailoverTarget,
    Line,
    LinesConfig,
    Severity,
    TargetKind,
)

GREETING_PREVIEW = 48


def pretty_number(e164: str) -> str:
    """``+14155550199`` → ``+1 415-555-0199`` (international format, as people read it)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def quote(text: str, limit: int = GREETING_PREVIEW) -> str:
    """A short quoted preview of spoken text."""
    flat = " ".join(text.split())
    return f'"{flat}"' if len(flat) <= limit else f'"{flat[: limit - 1].rstrip()}…"'


@functools.lru_cache(maxsize=1024)  # a default greeting edit asks the same of 10,000 lines
def word_change(old: str, new: str, *, context: int = 3, most: int = 3) -> str:
    """What changed inside a text, word by word: ``…leave a message "after the tone" → "now"``.

    Each change shows up to ``context`` unchanged words on either side; past ``most`` changes
    the rest are counted. Texts with nothing in common are shown whole (``quote``).
    """
    a, b = old.split(), new.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not changes or matcher.ratio() < 0.3:
        return f"{quote(old)} → {quote(new)}"
    parts = []
    for tag, i1, i2, j1, j2 in changes[:most]:
        before = a[max(0, i1 - context) : i1]
        after = a[i2 : i2 + context]
        removed = " ".join(a[i1:i2]) if tag != "insert" else ""
        added = " ".join(b[j1:j2]) if tag != "delete" else ""
        lead = ("…" if i1 > context else "") + " ".join(before)
        tail = " ".join(after) + ("…" if i2 + context < len(a) else "")
        parts.append(" ".join(x for x in (lead, f'"{removed}" → "{added}"', tail) if x).strip())
    more = len(changes) - most
    return "; ".join(parts) + (f"; and {more} more change{'s' * (more > 1)}" if more > 0 else "")


def describe_step(step: FailoverTarget) -> str:
    """One failover step in words, e.g. ``forward to +1 415-555-0199 for 20 s``."""
    if step.kind is TargetKind.FORWARD:
        confirm = " (the callee presses a key to take it)" if step.confirm else ""
        return f"forward to {pretty_number(step.to)} for {step.timeout_s} s{confirm}"
    if step.kind is TargetKind.QUEUE:
        return f"queue for the next free agent (up to {step.timeout_s} s)"
    if step.kind is TargetKind.VOICEMAIL:
        if step.audio:
            return f"voicemail (recorded greeting {step.audio})"
        return f"voicemail {quote(step.text)}"
    if step.kind is TargetKind.URL:
        return f"secondary server {step.to}"
    if step.audio:
        return f"play the recording {step.audio} and hang up"
    return f"say {quote(step.text)} and hang up"


def describe_chain(line: Line, severity: Severity = Severity.MINOR) -> str:
    """The whole failover in one sentence: steps joined by ``, then``."""
    said = ", then ".join(describe_step(step) for step in line.failover_chain(severity))
    if line.url_method != "POST" and line.failover_chain(severity)[0].kind is TargetKind.URL:
        said += f" ({line.url_method})"
    return said


def describe_sms(line: Line) -> str | None:
    """What a sender gets when the number's SMS URL fails (``sms``), or None when the line
    leaves the number's SMS settings alone."""
    sms = line.sms
    if sms is None:
        return None
    if sms.url is not None:
        return f"secondary messaging server {sms.url} ({sms.method})"
    return f"reply {quote(sms.reply or '')}"


def describe_normal(line: Line) -> str:
    """Who answers while the primary works."""
    if line.primary:
        return line.primary
    return "the number's current voice URL (not managed here)"


def describe_queue(line: Line, config: LinesConfig) -> str | None:
    """The severe-outage queue of a shared line, or None."""
    if line.queue is None:
        return None
    names = ", ".join(
        config.agent(agent).name + ("" if config.agent(agent).on_duty else " (starts Off Duty)")
        for agent in line.queue.agents
    )
    ring_s = line.queue.ring_s
    ring = "" if ring_s == DEFAULT_QUEUE_RING_S else f", each agent rung {ring_s} s"
    return f"{names} (up to {line.queue.timeout_s} s{ring}), then voicemail"


def line_summary(line: Line, config: LinesConfig, severity: Severity) -> dict[str, Any]:
    """A JSON-able record of one line's plan."""
    chain = line.failover_chain(severity)
    return {
        "id": line.id,
        "name": line.display_name,
        "type": line.type.value,
        "number": line.number,
        "primary": line.primary,
        "normally": describe_normal(line),
        "on_failure": describe_chain(line, severity),
        "failover": [
            {
                "kind": step.kind.value,
                "to": step.to or None,
                "timeout_s": step.timeout_s or None,
                "text": step.text or None,
                **({"audio": step.audio} if step.audio else {}),
            }
            for step in chain
        ],
        "queue": describe_queue(line, config),
        "test": line.test,
        **({"sms": describe_sms(line)} if line.sms is not None else {}),
        **({"test_until": line.test_until} if line.test_until else {}),
        "queue_test": line.queue is not None and line.queue.test,
    }


def describe_alerts(config: LinesConfig) -> str | None:
    """What alerts are sent, when and how (``plan``); None without ``alerts.webhook``."""
    if config.alerts_webhook is None:
        return None
    shape = "Slack-compatible text" if config.alerts_payload == "slack" else "JSON"
    return (
        f"alerts: a scheduled `failover status --notify` (not the calls) POSTs {shape} to "
        f"{config.alerts_webhook}, signed (X-Failover-Signature: HMAC-SHA256 of the body under "
        f"failover:alertSecret): a line's first failover at once (line, ErrorCode, ErrorUrl, "
        f"calls), a summary every {config.alerts_summary_every} min while it lasts, 'restored' "
        f"when its primary answers again, and each voicemail left through failover"
    )
