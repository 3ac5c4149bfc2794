"""Voicemails callers left through failover: recordings on calls to the lines' numbers.

Reads only: one recordings listing (paged) and the calls those recordings belong to
(``infra.account.live``).
Must not import: pulumi, twilio, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from infra.account.live import LiveRecording, read_calls, read_recordings
from infra.model import Line
from infra.twilio.client import Twilio


@dataclass(frozen=True, slots=True)
class Voicemail:
    """One message: the recording and who left it."""

    line: Line
    caller: str
    recording: LiveRecording

    @property
    def time(self) -> str:
        created = self.recording.created
        return created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if created else "?"

    @property
    def duration(self) -> str:
        return f"{self.recording.duration_s // 60}:{self.recording.duration_s % 60:02d}"


def collect(
    tw: Twilio,
    lines: list[Line],
    since: date | None,
    keep: Callable[[LiveRecording], bool] | None = None,
) -> list[Voicemail]:
    """Voicemails on calls to the lines' numbers, newest first; ``keep`` picks recordings before
    their calls are read (``status --notify`` reads only the calls of messages not yet sent)."""
    recordings = [r for r in read_recordings(tw, since) if keep is None or keep(r)]
    by_number = {line.number: line for line in lines}
    calls = read_calls(tw, {r.call_sid for r in recordings}, list(by_number), since)
    found = [
        Voicemail(by_number[calls[r.call_sid][0]], calls[r.call_sid][1], r)
        for r in recordings
        if r.call_sid in calls and calls[r.call_sid][0] in by_number
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(
        found, key=lambda v: (v.recording.created or oldest, v.recording.sid), reverse=True
    )
