"""Which lines are failing over now, since when, and which were restored, from Twilio's records.

Twilio keeps no "this call used the fallback" flag, but it logs every failed webhook request as
a Monitor **Alert** ("a single log entry for an error or warning encountered when Twilio makes
a webhook request to your server", https://www.twilio.com/docs/usage/monitor-alert), and
Twilio's fallback is requested exactly when "Twilio is unable to retrieve or execute TwiML"
from the primary (https://www.twilio.com/docs/usage/security/availability-reliability). The
alert carries what the fallback request carries as ``ErrorCode``/``ErrorUrl``: ``error_code``
and ``request_url``. So a line is *failing over* when alerts name its primary.

Reads (both listings, paged by 1,000; no per-call fetch; no calls listing without an alert):
- ``GET monitor.twilio.com/v1/Alerts?LogLevel=error&StartDate=…``: ``error_code``,
  ``request_url``, ``request_method``, ``resource_sid``, ``date_created``;
- ``GET /2010-04-01/Accounts/…/Calls.json?StartTime>=…``: ``sid``, ``to``, ``status``,
  ``start_time`` of each call from shortly before the first alert.

An alert belongs to a line when its ``resource_sid`` is a call to the line's number and its
``request_url`` is not one of this tool's own entries (``*.twil.io``) nor the line's
``failover.url`` (those failing is not a failover of the primary); failing that, when its
``request_url`` is the declared ``primary`` of exactly one line. Unconfirmed: that an alert
about a voice URL carries the call's SID as ``resource_sid`` (the field's description says
"the SID of the server"; if it does not, only lines that declare ``primary`` are seen) and how
late an alert appears after its call ("due to buffering", ``date_generated`` may differ from
``date_created``: a call counted as answered by the primary may get its alert later, so
"restored" needs a *completed* call).

A failing line is **restored** when a completed call to its number started at or after its last
alert and got no alert (the primary answered it), and **quiet** when no alert came for
``quiet`` and no call since confirms the primary: it may still be down with nobody calling.
Must not import: pulumi, twilio, infra.providers, infra.cli, infra.lines.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from infra.account.live import PAGE_SIZE, _pages
from infra.model import Line
from infra.twilio.client import Twilio
from infra.twilio.values import text

OUR_DOMAIN_SUFFIX = ".twil.io"
"""Serverless environments are served on ``<name>.twil.io``
(https://www.twilio.com/docs/serverless/functions-assets/functions/invocation): our entries."""

FINISHED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
"""Call statuses of a call that has ended (https://www.twilio.com/docs/voice/api/call-resource)."""


CALL_BEFORE_ALERT = timedelta(minutes=5)
"""How long before its alert a failed call may have started (Twilio waits 15 s for a primary,
https://www.twilio.com/docs/api/errors/11205; a failure later in a call, e.g. an action URL,
comes minutes in: calls listed this far back still name their alert's line)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One Monitor alert, the fields relied on."""

    sid: str
    error_code: str
    request_url: str
    resource_sid: str
    created: datetime


@dataclass(frozen=True, slots=True)
class CallRecord:
    sid: str
    to: str
    status: str
    started: datetime


@dataclass(frozen=True, slots=True)
class Outage:
    """One line's latest failover episode in the window."""

    line: Line
    state: str
    """``failing``, ``restored`` (a call the primary answered) or ``quiet`` (no alert for the
    quiet period, nothing confirms the primary)."""
    since: datetime
    last: datetime
    calls: frozenset[str]
    """SIDs of the calls that failed over in this episode."""
    error_code: str
    error_url: str
    """Of the latest alert: what Twilio sent the fallback as ``ErrorCode``/``ErrorUrl``."""
    restored_at: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.state == "failing"


def read_alerts(tw: Twilio, start: datetime) -> list[Alert]:
    """Error-level alerts created at or after ``start`` (one request per 1,000)."""
    listing = tw.rest.monitor.v1.alerts
    first = functools.partial(
        listing.page, log_level="error", start_date=start, page_size=PAGE_SIZE
    )
    out = []
    for a in _pages(tw, "account", "list Monitor alerts", first):
        created = a.date_created
        if created is None or created < start:
            continue
        out.append(
            Alert(
                text(a.sid), text(a.error_code), text(a.request_url), text(a.resource_sid), created
            )
        )
    return out


def read_call_records(tw: Twilio, start: datetime) -> list[CallRecord]:
    """Calls that started at or after ``start`` (one request per 1,000)."""
    calls = tw.rest.api.v2010.account.calls
    first = functools.partial(calls.page, start_time_after=start, page_size=PAGE_SIZE)
    out = []
    for c in _pages(tw, "account", "list calls", first):
        started = c.start_time
        if started is None or started < start:
            continue
        out.append(CallRecord(text(c.sid), text(c.to), text(c.status), started))
    return out


def collect(
    tw: Twilio, lines: Sequence[Line], now: datetime, window: timedelta, quiet: timedelta
) -> list[Outage]:
    """Each line's latest failover episode in ``[now - window, now]``, in lines order."""
    alerts = read_alerts(tw, now - window)
    if not alerts:
        return []  # no failed request at all: the calls list has nothing to add
    # Calls from the first alert on: earlier calls can neither fail over nor restore a line.
    calls = read_call_records(tw, min(a.created for a in alerts) - CALL_BEFORE_ALERT)
    return outages(lines, alerts, calls, now, quiet)


def outages(
    lines: Sequence[Line],
    alerts: Iterable[Alert],
    calls: Iterable[CallRecord],
    now: datetime,
    quiet: timedelta,
) -> list[Outage]:
    """Pure part of :func:`collect` (see the module doc for the rules)."""
    by_number = {line.number: line for line in lines}
    primaries: dict[str, list[Line]] = {}
    for declared in lines:
        if declared.primary:
            primaries.setdefault(declared.primary, []).append(declared)
    call_list = list(calls)
    to_of = {c.sid: c.to for c in call_list}
    mine: dict[str, list[Alert]] = {}
    for alert in alerts:
        line: Line | None = by_number.get(to_of.get(alert.resource_sid, ""))
        if line is not None and not _foreign(alert.request_url, line):
            continue  # our own entry or the line's secondary server failed: not the primary
        if line is None and len(primaries.get(alert.request_url, ())) == 1:
            line = primaries[alert.request_url][0]  # a primary several lines share stays unnamed
        if line is not None:
            mine.setdefault(line.id, []).append(alert)
    alerted = {a.resource_sid for found in mine.values() for a in found}
    clean: dict[str, list[CallRecord]] = {}
    for c in call_list:
        if c.sid not in alerted and c.status in FINISHED and c.to in by_number:
            clean.setdefault(by_number[c.to].id, []).append(c)
    return [
        _episode(each, mine[each.id], clean.get(each.id, []), now, quiet)
        for each in lines
        if each.id in mine
    ]


def _foreign(url: str, line: Line) -> bool:
    """True unless ``url`` is one of this tool's entries or the line's own secondary server."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(url) and not host.endswith(OUR_DOMAIN_SUFFIX) and url != line.url


def _episode(
    line: Line, alerts: list[Alert], clean: list[CallRecord], now: datetime, quiet: timedelta
) -> Outage:
    """The latest episode: alerts closer than ``quiet`` with no answered call between them."""
    alerts.sort(key=lambda a: (a.created, a.sid))
    episode: list[Alert] = []
    for alert in alerts:
        if episode and (
            alert.created - episode[-1].created > quiet
            or _answered_between(clean, episode[-1].created, alert.created)
        ):
            episode = []
        episode.append(alert)
    first, last = episode[0], episode[-1]
    answered = [c.started for c in clean if c.started >= last.created]
    state, restored_at = "failing", None
    if answered:
        state, restored_at = "restored", min(answered)
    elif now - last.created > quiet:
        state = "quiet"
    return Outage(
        line=line,
        state=state,
        since=first.created,
        last=last.created,
        calls=frozenset(a.resource_sid or a.sid for a in episode),
        error_code=last.error_code,
        error_url=last.request_url,
        restored_at=restored_at,
    )


def _answered_between(clean: list[CallRecord], after: datetime, before: datetime) -> bool:
    return any(after <= c.started < before for c in clean)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def as_record(outage: Outage) -> dict[str, Any]:
    """JSON-ready fields of one outage (shared by ``status --format json`` and alerts)."""
    return {
        "line": outage.line.id,
        "number": outage.line.number,
        "state": outage.state,
        "since": _iso(outage.since),
        "last": _iso(outage.last),
        "calls": len(outage.calls),
        "error_code": outage.error_code,
        "error_url": outage.error_url,
        "restored_at": _iso(outage.restored_at) if outage.restored_at else None,
    }


def _iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(moment: datetime, now: datetime) -> str:
    """``09:12 UTC`` on ``now``'s day, else ``2026-01-05 09:12 UTC``."""
    moment = utc(moment)
    return moment.strftime(
        "%H:%M UTC" if moment.date() == utc(now).date() else "%Y-%m-%d %H:%M UTC"
    )


def sentence(outage: Outage, now: datetime) -> str:
    """``main: failing over since 09:12 UTC, 14 calls (11200 from https://…), last 09:40 UTC``."""
    count = len(outage.calls)
    calls = f"{count} call{'s' if count != 1 else ''}"
    cause = (
        f"{outage.error_code} from {outage.error_url}" if outage.error_url else outage.error_code
    )
    core = f"since {clock(outage.since, now)}, {calls} ({cause}), last {clock(outage.last, now)}"
    if outage.state == "restored" and outage.restored_at is not None:
        return (
            f"{outage.line.id}: restored at {clock(outage.restored_at, now)} (the primary "
            f"answered a call); failed over {core}"
        )
    if outage.state == "quiet":
        return (
            f"{outage.line.id}: no failed call since {clock(outage.last, now)}, and no call since "
            f"confirms the primary; failed over {core}"
        )
    return f"{outage.line.id}: failing over {core}"
