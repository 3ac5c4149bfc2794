"""Compare two versions of lines.yaml line by line, in words a reviewer reads.

Used by ``failover diff`` (pull-request review) and by the safety brake shared with the
Pulumi program (``infra.safety``). Lines are matched by id, never by position.
Must not import: twilio, pulumi, yaml, infra.lines.load, infra.providers, infra.cli.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from infra.describe import describe_chain, describe_sms, pretty_number, word_change
from infra.errors import NOWHERE, SourceRef
from infra.expiry import parse_time, shown
from infra.model import Line, LinesConfig, Severity, TargetKind


class ChangeKind(enum.Enum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class LineChange:
    """What one line's change means; ``details`` are plain sentences."""

    line_id: str
    kind: ChangeKind
    details: tuple[str, ...]
    failover_changed: bool
    """True when callers would be routed differently on failure (counts for the brake)."""
    warnings: tuple[str, ...] = ()
    where: SourceRef = field(default=NOWHERE, compare=False)


def compare(
    old: LinesConfig | None, new: LinesConfig, severity: Severity = Severity.MINOR
) -> list[LineChange]:
    """Every added, removed and changed line, in the new file's order, removals last."""
    before = {line.id: line for line in old.lines} if old else {}
    current = {line.id for line in new.lines}
    renamed = _renames(before, new, current)
    changes: list[LineChange] = []
    for line in new.lines:
        previous = before.get(line.id) or before.get(renamed.get(line.id, ""))
        if previous is None:
            changes.append(_added(line, severity, _rename_hint(line, old, current)))
            continue
        details = list(_line_details(previous, line, old, new, severity))  # type: ignore[arg-type]
        if previous.id != line.id:
            details.insert(
                0,
                f"renamed: {previous.id} → {line.id}; its number {pretty_number(line.number)} "
                "is updated in place, not restored",
            )
        if details:
            changes.append(_changed(previous, line, details, severity))
    for line in old.lines if old else ():
        if line.id not in current and line.id not in renamed.values():
            changes.append(
                LineChange(
                    line_id=line.id,
                    kind=ChangeKind.REMOVED,
                    failover_changed=True,
                    where=line.where,
                    details=(
                        f"line removed: {pretty_number(line.number)} will be restored to its settings "
                        "from before this tool managed it, not released",
                    ),
                )
            )
    if old and old.account != new.account:
        changes.insert(
            0,
            LineChange(
                line_id="*",
                kind=ChangeKind.CHANGED,
                failover_changed=True,
                details=(
                    f"account name {old.account} → {new.account}: every Twilio-side resource "
                    "(flows, documents, queue) is recreated under the new name",
                ),
            ),
        )
    return changes


def _renames(before: dict[str, Line], new: LinesConfig, current: set[str]) -> dict[str, str]:
    """new id -> the earlier id it carries on: the most recent id of its ``renamed_from``
    that the old file has and the new one does not (the rule the number batches apply,
    ``infra.providers.phone_number_batch.renames``)."""
    moves: dict[str, str] = {}
    for line in new.lines:
        if line.id in before:
            continue
        held = [old for old in line.renamed_from if old in before and old not in current]
        if held and held[-1] not in moves.values():
            moves[line.id] = held[-1]
    return moves


def _rename_hint(line: Line, old: LinesConfig | None, current: set[str]) -> str | None:
    """A warning when an added line has the number of a removed line: a rename that
    ``renamed_from`` does not declare, which would restore the number and adopt it again."""
    for gone in old.lines if old else ():
        if gone.id not in current and gone.number == line.number:
            return (
                f"{line.id}: looks like a rename of {gone.id} (same number "
                f"{pretty_number(line.number)}): add `renamed_from: [{gone.id}]` to {line.id} so "
                "its number is updated in place; as written, the number is restored to its "
                "settings from before this tool and then adopted again"
            )
    return None


def _route(line: Line, severity: Severity) -> tuple[tuple[object, ...], ...]:
    """The shape of a line's failover: kinds, targets and timeouts, not the words spoken. A
    queue's target is always the line itself, so it is left out (a renamed line keeps its
    route)."""
    return tuple(
        (step.kind, "" if step.kind is TargetKind.QUEUE else step.to, step.timeout_s)
        for step in line.failover_chain(severity)
    )


def _added(line: Line, severity: Severity, rename_hint: str | None = None) -> LineChange:
    warnings: tuple[str, ...] = ()
    if line.test and not line.test_early:
        warnings = (_early_test_warning(line),)
    if rename_hint:
        warnings += (rename_hint,)
    return LineChange(
        line_id=line.id,
        kind=ChangeKind.ADDED,
        failover_changed=True,
        where=line.where,
        warnings=warnings,
        details=(
            f"line added: {pretty_number(line.number)} ({line.type.value}); on failure "
            f"{describe_chain(line, severity)}"
            + (f"; when its SMS URL fails: {describe_sms(line)}" if line.sms else ""),
        ),
    )


def _changed(previous: Line, line: Line, details: list[str], severity: Severity) -> LineChange:
    routed = (
        _route(previous, Severity.MINOR) != _route(line, Severity.MINOR)
        or _route(previous, Severity.SEVERE) != _route(line, Severity.SEVERE)
        or previous.number != line.number
        or previous.primary != line.primary
        or previous.test != line.test
        or _queue_test(previous) != _queue_test(line)
    )
    warnings: tuple[str, ...] = ()
    failover_set = _route(previous, severity) != _route(line, severity)
    if line.test and not previous.test and failover_set and not line.test_early:
        warnings = (_early_test_warning(line),)
    return LineChange(
        line_id=line.id,
        kind=ChangeKind.CHANGED,
        details=tuple(details),
        failover_changed=routed,
        warnings=warnings,
        where=line.where,
    )


def _early_test_warning(line: Line) -> str:
    return (
        f"{line.id}: test mode starts in the same change that sets its failover; test after the "
        "failover has been live for a while (Dialpad waits 24 h for shared lines)"
    )


def _line_details(
    old: Line, new: Line, old_config: LinesConfig, new_config: LinesConfig, severity: Severity
) -> Iterator[str]:
    if old.number != new.number:
        yield (
            f"number {pretty_number(old.number)} → {pretty_number(new.number)}: the old number is "
            "restored (not released) and the new one adopted"
        )
    if old.type != new.type:
        yield f"type {old.type.value} → {new.type.value}"
    if old.display_name != new.display_name:
        yield f"name {old.display_name!r} → {new.display_name!r}"
    if old.primary != new.primary:
        yield f"primary {old.primary or '(not managed)'} → {new.primary or '(not managed)'}"
    if _route(old, severity) != _route(new, severity):
        yield f"failover {describe_chain(old, severity)} → {describe_chain(new, severity)}"
    elif old.url is not None and old.url == new.url and old.url_method != new.url_method:
        yield f"failover.url method {old.url_method} → {new.url_method}"
    if old.message is not None and new.message is not None and old.message != new.message:
        yield f"message changed: {word_change(old.message, new.message)}"
    yield from _message_details(old, new)
    if _uses_voicemail(old) or _uses_voicemail(new):
        yield from _voicemail_details(old, new)
    if old.forward_confirm != new.forward_confirm and new.forward is not None:
        yield (
            "forward confirm on: the callee presses a key to take the call, so their voicemail "
            "never does"
            if new.forward_confirm
            else "forward confirm off: whoever answers the forward (a voicemail too) takes the call"
        )
    if old.forwarding != new.forwarding and old.forward == new.forward:
        yield "forwarding list reordered or extended; the failover number stays " + pretty_number(
            new.forward or ""
        )
    yield from _queue_details(old, new, old_config, new_config)
    yield from _sms_details(old, new)
    if _queue_test(old) != _queue_test(new):
        yield (
            "queue test started: calls go straight into the call queue"
            if _queue_test(new)
            else "queue test ended: primary restored"
        )
    if old.test != new.test:
        yield (
            "test started: calls go straight to the failover"
            if new.test
            else "test ended: primary restored"
        )
    if old.test and new.test and old.test_until != new.test_until:
        yield f"test mode {_until(old)} → {_until(new)}"
    elif new.test and not old.test and new.test_until is not None:
        yield f"test mode {_until(new)}"


def _until(line: Line) -> str:
    return f"until {shown(parse_time(line.test_until))}" if line.test_until else "with no end"


def _new_content(before: str, after: str) -> bool:
    """Both hashes known (a file read at both versions) and different."""
    return bool(before and after and before != after)


def _message_details(old: Line, new: Line) -> Iterator[str]:
    """A message's recording and its own voice (its text is compared above)."""
    if old.message_audio != new.message_audio and (old.message_audio or new.message_audio):
        yield (
            f"message recording {old.message_audio or '(none: said)'} → "
            f"{new.message_audio or '(none: said)'}"
        )
    elif old.message_audio and _new_content(old.message_audio_sha256, new.message_audio_sha256):
        yield f"message recording {new.message_audio} changed (new file content)"
    said = old.message is not None and new.message is not None
    if said and old.message_speech != new.message_speech:
        (a_voice, a_lang), (b_voice, b_lang) = old.message_speech, new.message_speech
        yield f"message voice {a_voice} ({a_lang}) → {b_voice} ({b_lang})"


def _queue_test(line: Line) -> bool:
    return line.queue is not None and line.queue.test


def _uses_voicemail(line: Line) -> bool:
    """True when a caller can reach the line's voicemail at either severity: a line whose
    failover is a URL or a message has no greeting to change."""
    return any(
        step.kind is TargetKind.VOICEMAIL for sev in Severity for step in line.failover_chain(sev)
    )


def _voicemail_details(old: Line, new: Line) -> Iterator[str]:
    a, b = old.voicemail, new.voicemail
    if a.greeting_audio != b.greeting_audio:
        yield (
            f"greeting recording {a.greeting_audio or '(none: said)'} → "
            f"{b.greeting_audio or '(none: said)'}"
        )
    elif _new_content(a.greeting_audio_sha256, b.greeting_audio_sha256):
        yield f"greeting recording {b.greeting_audio} changed (new file content)"
    elif a.greeting != b.greeting and b.greeting_audio is None:
        yield f"greeting changed: {word_change(a.greeting, b.greeting)}"
    if (a.voice, a.language) != (b.voice, b.language):
        yield f"voice {a.voice} ({a.language}) → {b.voice} ({b.language})"
    if a.max_length_s != b.max_length_s:
        yield f"voicemail length {a.max_length_s} s → {b.max_length_s} s"
    if a.recording_callback != b.recording_callback:
        yield f"recording callback {a.recording_callback or '(none)'} → {b.recording_callback or '(none)'}"
    if old.prompts.goodbye != new.prompts.goodbye:
        yield f"goodbye prompt changed: {word_change(old.prompts.goodbye, new.prompts.goodbye)}"


def _sms_details(old: Line, new: Line) -> Iterator[str]:
    """The SMS fallback (``sms``): added, removed (restored, as a removed line is), changed."""
    a, b = old.sms, new.sms
    if a == b:
        return
    if a is None:
        yield f"SMS fallback added: when the SMS URL fails, {describe_sms(new)}"
    elif b is None:
        yield (
            "SMS fallback removed: the number's SMS fallback from before this tool managed it "
            "is restored"
        )
    elif a.reply is not None and b.reply is not None:
        yield f"SMS reply changed: {word_change(a.reply, b.reply)}"
    else:
        yield f"SMS fallback {describe_sms(old)} → {describe_sms(new)}"


def _queue_details(
    old: Line, new: Line, old_config: LinesConfig, new_config: LinesConfig
) -> Iterator[str]:
    if old.queue is None and new.queue is None:
        return
    if old.queue is None:
        yield f"call queue added for a severe outage: {', '.join(new.queue.agents)}"  # type: ignore[union-attr]
        return
    if new.queue is None:
        yield "call queue removed"
        return
    for name in ("hold", "still_holding", "nobody"):
        before, after = getattr(old.prompts, name), getattr(new.prompts, name)
        if before != after:
            yield f"{name.replace('_', ' ')} prompt changed: {word_change(before, after)}"
    for agent in new.queue.agents:
        if agent not in old.queue.agents:
            yield f"agent {agent} added to {new.id} queue"
        elif _phone(old_config, agent) != _phone(new_config, agent):
            yield f"agent {agent} now answers on {pretty_number(_phone(new_config, agent))}"
    for agent in old.queue.agents:
        if agent not in new.queue.agents:
            yield f"agent {agent} removed from {new.id} queue"
    if old.queue.timeout_s != new.queue.timeout_s:
        yield f"queue wait {old.queue.timeout_s} s → {new.queue.timeout_s} s"
    if old.queue.ring_s != new.queue.ring_s:
        yield f"each agent rung {old.queue.ring_s} s → {new.queue.ring_s} s"


def _phone(config: LinesConfig, agent_id: str) -> str:
    try:
        return config.agent(agent_id).phone
    except KeyError:
        return ""
