"""Alerts off the caller's path: what ``failover status --notify`` sends, and when.

Nothing runs on a call: a scheduled ``failover status --notify`` (CI, every few minutes)
reads Twilio's own records (``infra.account.outage``, ``infra.account.voicemails``), compares
them with a small state file it keeps, and POSTs signed JSON to ``alerts.webhook``
(docs/design/alerts.md says why this and not Event Streams or a Studio step). Per line:

- ``failover`` at once, the first run that sees the line failing over;
- ``summary`` every ``alerts.summary_every`` minutes while it keeps failing over, when calls
  failed over since the last notice;
- ``restored`` when a call the primary answered shows it is back (``confirmed: true``), or
  when no call failed over for the quiet period (``confirmed: false``);
- ``voicemail`` for each message a caller left through failover (line, caller, duration,
  recording link).

Each body is signed: ``X-Failover-Signature: sha256=<hex HMAC-SHA256 of the raw body under
failover:alertSecret>``. A notice changes the state file only once delivered (2xx), so a
failed delivery is retried by the next run and the webhook may see a notice twice
(at least once): receivers deduplicate on ``id``.

Must not import: pulumi, twilio, infra.providers, infra.cli, infra.lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infra import __version__
from infra.account.live import LiveRecording
from infra.account.outage import Outage, as_record, clock, sentence
from infra.account.voicemails import Voicemail
from infra.errors import InfraError

SIGNATURE_HEADER = "X-Failover-Signature"
EVENT_HEADER = "X-Failover-Event"
SECRET_ENV = "FAILOVER_ALERT_SECRET"  # noqa: S105 - the variable's name
SECRET_KEY = "failover:alertSecret"  # noqa: S105 - a config key
SECRET_MIN = 16
STATE_FORMAT = "failover-alerts/1"
PAYLOADS = ("plain", "slack")
DELIVERY_TIMEOUT_S = 10.0
VOICEMAIL_MEMORY = timedelta(days=2)
"""How long a delivered voicemail's SID is remembered (the recordings read goes back a day)."""


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body (RFC 2104), as GitHub signs webhooks."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (README "Alerts"): recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


def alert_secret(environ: dict[str, str]) -> str:
    """The signing secret from ``FAILOVER_ALERT_SECRET`` (set from the stack's secret
    ``failover:alertSecret``); its value is never printed."""
    secret = environ.get(SECRET_ENV, "")
    if not secret:
        raise InfraError(
            f"--notify signs every alert and needs {SECRET_ENV}: set the stack secret once "
            f"(pulumi config set --secret {SECRET_KEY} <random text>), then in CI "
            f"{SECRET_ENV}=$(pulumi config get {SECRET_KEY} --stack <stack>)"
        )
    if len(secret) < SECRET_MIN or secret != secret.strip():
        raise InfraError(
            f"{SECRET_ENV} must be at least {SECRET_MIN} characters without surrounding "
            f"spaces (it has {len(secret)}); e.g. openssl rand -hex 32"
        )
    return secret


@dataclass(frozen=True)
class Notice:
    """One message for the webhook, and the state change its delivery makes."""

    event: str
    id: str
    text: str
    fields: dict[str, Any]
    line: str = ""
    entry: dict[str, Any] | None = None
    """The line's state after delivery (None: the episode is over)."""
    voicemail: tuple[str, str] | None = None
    """(recording SID, created) remembered after delivery."""

    def body(self, payload: str, now: datetime) -> bytes:
        if payload == "slack":
            # Slack's incoming webhooks take {"text": ...} (https://api.slack.com/messaging/webhooks)
            document: dict[str, Any] = {"text": self.text}
        else:
            document = {
                "event": self.event, "id": self.id, "text": self.text, **self.fields,
                "time": _iso(now), "sender": f"twilio-failover {__version__}",
            }  # fmt: skip
        return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")


@dataclass
class AlertState:
    """The state file: per failing line its episode and last notice; voicemails delivered."""

    started: str
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed: dict[str, str] = field(default_factory=dict)
    """line -> ``since`` of its last episode reported over (never reported twice)."""
    voicemails: dict[str, str] = field(default_factory=dict)
    """recording SID -> created, delivered."""

    @classmethod
    def load(cls, path: Path, now: datetime) -> AlertState:
        if not path.exists():
            return cls(started=_iso(now))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InfraError(f"{path}: not a state file failover wrote ({exc.__class__.__name__}); "
                             "pass another --state FILE") from None  # fmt: skip
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise InfraError(
                f'{path}: not a state file failover wrote (no "format": "{STATE_FORMAT}"); '
                "it is left as it is: pass another --state FILE"
            )
        return cls(
            started=str(data.get("started") or _iso(now)),
            lines=dict(data.get("lines") or {}),
            closed=dict(data.get("closed") or {}),
            voicemails=dict(data.get("voicemails") or {}),
        )

    def save(self, path: Path) -> None:
        """Atomically: a run interrupted while writing leaves the previous state."""
        document = {
            "format": STATE_FORMAT, "started": self.started, "lines": self.lines,
            "closed": self.closed, "voicemails": self.voicemails,
        }  # fmt: skip
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        except OSError as exc:
            raise InfraError(
                f"{path}: cannot write the alerts state ({exc.strerror}); the alerts sent in "
                "this run may be sent again by the next one"
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)  # only the temporary file this run created
            raise

    def unsent(self, recording: LiveRecording) -> bool:
        """A recording left since this state began watching and not yet delivered."""
        created = recording.created
        return recording.sid not in self.voicemails and (
            created is None or _iso(created) >= self.started
        )

    def apply(self, notice: Notice, now: datetime) -> None:
        if notice.voicemail is not None:
            sid, created = notice.voicemail
            self.voicemails[sid] = created
            cutoff = _iso(now - VOICEMAIL_MEMORY)
            self.voicemails = {s: c for s, c in self.voicemails.items() if c >= cutoff}
        elif notice.entry is None:
            since = self.lines.pop(notice.line, {}).get("since") or notice.fields.get("since")
            self.closed[notice.line] = str(since)
        else:
            self.lines[notice.line] = notice.entry


def notices(
    state: AlertState,
    outages: Sequence[Outage],
    voicemails: Sequence[Voicemail],
    now: datetime,
    every: timedelta,
) -> list[Notice]:
    """What to send now (see the module doc), in a stable order: lines, then voicemails."""
    out: list[Notice] = []
    seen = {o.line.id for o in outages}
    for outage in outages:
        notice = _line_notice(state, outage, now, every)
        if notice is not None:
            out.append(notice)
    for line_id in sorted(set(state.lines) - seen):  # its alerts left the window: over
        entry = state.lines[line_id]
        text = f"{line_id}: no failed call in the status window; failed over since {entry['since']}"
        out.append(Notice("restored", _id("restored", line_id, entry["since"]), text,
                          {"line": line_id, "confirmed": False, "since": entry["since"]},
                          line=line_id))  # fmt: skip
    started = state.started
    for message in sorted(voicemails, key=lambda v: (v.recording.created or now, v.recording.sid)):
        created = _iso(message.recording.created or now)
        if created < started or message.recording.sid in state.voicemails:
            continue
        out.append(_voicemail_notice(message, created))
    return out


def _line_notice(
    state: AlertState, outage: Outage, now: datetime, every: timedelta
) -> Notice | None:
    line = outage.line.id
    since = _iso(outage.since)
    record = as_record(outage)
    known = state.lines.get(line)
    if known is not None and known.get("since") != since:
        known = None  # a new episode: the old one ended between runs
    if outage.failing:
        entry = {"since": since, "notified": _iso(now), "calls": len(outage.calls)}
        if known is None:
            if state.closed.get(line) == since:
                return None
            return Notice("failover", _id("failover", line, since), sentence(outage, now),
                          record, line=line, entry=entry)  # fmt: skip
        due = _parse(known["notified"]) + every <= now
        new_calls = len(outage.calls) - int(known.get("calls", 0))
        if not due or new_calls <= 0:
            return None
        fields = {**record, "new_calls": new_calls}
        text = f"{sentence(outage, now)}; {new_calls} since {clock(_parse(known['notified']), now)}"
        return Notice("summary", _id("summary", line, since, str(len(outage.calls))), text,
                      fields, line=line, entry=entry)  # fmt: skip
    if state.closed.get(line) == since:
        return None
    if known is None and since < state.started:
        return None  # over before this state file began watching
    fields = {**record, "confirmed": outage.state == "restored"}
    return Notice("restored", _id("restored", line, since), sentence(outage, now), fields,
                  line=line)  # fmt: skip


def _voicemail_notice(message: Voicemail, created: str) -> Notice:
    line = message.line
    fields = {
        "line": line.id, "number": line.number, "caller": message.caller,
        "duration_s": message.recording.duration_s, "recording_url": message.recording.url,
        "recording_sid": message.recording.sid, "call_sid": message.recording.call_sid,
        "left_at": created,
    }  # fmt: skip
    text = (
        f"New voicemail on {line.id} from {message.caller} ({message.duration}, left "
        f"{message.time}): {message.recording.url}"
    )
    return Notice("voicemail", _id("voicemail", message.recording.sid), text, fields,
                  line=line.id, voicemail=(message.recording.sid, created))  # fmt: skip


def deliver(url: str, body: bytes, secret: str, event: str) -> str | None:
    """POST one signed body; None when delivered (2xx), else why not (no URL, no secret)."""
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body),
        EVENT_HEADER: event,
        "User-Agent": f"twilio-failover/{__version__}",
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - https URL from lines.yaml (or --webhook)
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_S) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"the webhook answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"the webhook could not be reached ({reason.__class__.__name__})"
    return None if 200 <= status < 300 else f"the webhook answered HTTP {status}"


def _id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
