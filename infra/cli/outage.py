"""``failover status [FILE] [--since 24h] [--notify --state FILE]``: which lines fail over now.

From Twilio's own records (``infra.account.outage``): Monitor alerts name each failing
primary, and the calls list shows whether the primary answered since. Per line: failing over
since when, how many calls, the ``ErrorCode`` and ``ErrorUrl`` Twilio sent the fallback, the
last one; or restored. Two listings, one request per 1,000 records each.

``--notify`` also sends the alerts of ``alerts.webhook`` (``infra.alerts``): first failover,
summaries, restored, and each voicemail left through failover, signed with
``FAILOVER_ALERT_SECRET``; the dedupe state lives in ``--state FILE`` (the only file written,
atomically, and only a file this command wrote). Run it on a schedule (README "Alerts").
Named ``outage`` because ``infra.cli.status`` holds the exit codes.
Must not import: twilio (the account is read through infra.account only).
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.account.outage import Outage, as_record, clock, collect, sentence
from infra.account.voicemails import collect as collect_voicemails
from infra.alerts import AlertState, Notice, alert_secret, deliver, notices
from infra.cli.env import Env
from infra.cli.options import add_file, add_format
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.errors import InfraError
from infra.lines.load import load_config
from infra.model import LinesConfig
from infra.twilio.client import connect

HELP = "which lines are failing over now (since when, calls, error) and which were restored"

EXAMPLES = """  failover status
  failover status --since 2h --format markdown
  failover status --notify --state .failover/alerts.json   # on a schedule, e.g. every 5 min"""

DEFAULT_STATE = "failover-alerts.json"
_DURATION = re.compile(r"^([1-9][0-9]{0,4})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _duration(value: str) -> timedelta:
    match = _DURATION.match(value)
    if not match or timedelta(**{_UNITS[match[2]]: int(match[1])}) > timedelta(days=30):
        raise argparse.ArgumentTypeError(
            "must be minutes, hours or days up to 30d, e.g. 90m, 24h, 2d"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _webhook(value: str) -> str:
    """https, or plain http to this machine only (a local receiver or relay)."""
    match = re.match(r"^(https?)://([^/@\s:]+|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?(/\S*)?$", value)
    if not match:
        raise argparse.ArgumentTypeError("must be an https URL without user:password@")
    if match[1] == "http" and match[2] not in ("127.0.0.1", "localhost", "[::1]"):
        raise argparse.ArgumentTypeError(
            "plain http only to 127.0.0.1, localhost or [::1]; use https"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file(parser)
    parser.add_argument(
        "--since", type=_duration, default=timedelta(hours=24), metavar="DURATION",
        help="how far back to read Twilio's records (default: 24h; e.g. 90m, 2d)",
    )  # fmt: skip
    parser.add_argument(
        "--quiet",
        type=_duration,
        default=timedelta(minutes=15),
        metavar="DURATION",
        help="a failing line with no failed call for this long, and no call since, is shown as "
        "quiet rather than failing (default: 15m)",
    )
    parser.add_argument(
        "--notify", action="store_true",
        help="send alerts.webhook its signed alerts (first failover, summaries, restored, "
        "voicemails), deduplicated through --state",
    )  # fmt: skip
    parser.add_argument(
        "--state", metavar="FILE", default=DEFAULT_STATE,
        help=f"with --notify: the dedupe state this command keeps (default: {DEFAULT_STATE})",
    )  # fmt: skip
    parser.add_argument(
        "--webhook", type=_webhook, metavar="URL",
        help="with --notify: send to URL instead of alerts.webhook (https; plain http only to "
        "this machine, e.g. a local relay)",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true",
        help="with --notify: print the alerts that would be sent; send and write nothing",
    )  # fmt: skip
    add_format(parser)


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    config, warnings = load_config(env.path(args.file), args.file)
    for warning in warnings:
        env.err(str(warning))
    webhook = args.webhook or config.alerts_webhook
    if args.notify and not webhook:
        raise InfraError(f"--notify: {args.file} has no alerts.webhook (or pass --webhook URL)")
    secret = alert_secret(env.environ) if args.notify and not args.dry_run else ""
    now = datetime.now(UTC).replace(microsecond=0)
    tw = connect(env.environ)
    found = collect(tw, config.lines, now, args.since, args.quiet)
    sent: list[dict[str, Any]] = []
    failed = 0
    if args.notify:
        state_path = env.path(args.state)
        state = AlertState.load(state_path, now)
        since_day = (now - timedelta(days=1)).date()
        messages = collect_voicemails(tw, list(config.lines), since_day, keep=state.unsent)
        every = timedelta(minutes=config.alerts_summary_every)
        for notice in notices(state, found, messages, now, every):
            outcome = _send(notice, webhook or "", secret, config, now, dry_run=args.dry_run)
            if outcome is None and not args.dry_run:
                state.apply(notice, now)
            elif outcome is not None:
                failed += 1
                env.err(f"failover: alert {notice.event} ({notice.line}) not delivered: {outcome}; "
                        "the next run sends it again")  # fmt: skip
            sent.append({"event": notice.event, "id": notice.id, "line": notice.line,
                         "text": notice.text, "delivered": outcome is None and not args.dry_run})  # fmt: skip
        if not args.dry_run:
            state.save(state_path)
    render = {"json": _json, "markdown": _markdown}.get(args.format, _text)
    env.out(render(found, sent, now, args))
    if failed:
        return ExitCode.ERROR
    return ExitCode.CHANGES if any(o.failing for o in found) else ExitCode.OK


def _send(
    notice: Notice, url: str, secret: str, config: LinesConfig, now: datetime, *, dry_run: bool
) -> str | None:
    if dry_run:
        return None
    return deliver(url, notice.body(config.alerts_payload, now), secret, notice.event)


def _heading(found: list[Outage], now: datetime, args: argparse.Namespace) -> str:
    failing = sum(o.failing for o in found)
    hours = args.since.total_seconds() / 3600
    window = f"{hours:g} h" if hours >= 1 else f"{args.since.total_seconds() / 60:g} min"
    rest = len(found) - failing
    tail = f", {rest} recovered or quiet" if rest else ""
    return (
        f"{failing} line{'s' if failing != 1 else ''} failing over now{tail} "
        f"(Twilio's records of the last {window}, to {clock(now, now)})"
    )


def _sent_lines(sent: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    if not args.notify:
        return []
    verb = "would send" if args.dry_run else "sent"
    if not sent:
        return ["alerts: nothing new to send"]
    return [f"alert {verb}: {s['event']}: {s['text']}" + ("" if s["delivered"] or args.dry_run else " (NOT delivered)")
            for s in sent]  # fmt: skip


def _text(
    found: list[Outage], sent: list[dict[str, Any]], now: datetime, args: argparse.Namespace
) -> str:
    out = [_heading(found, now, args)]
    out += [sentence(o, now) for o in sorted(found, key=lambda o: (not o.failing, o.line.id))]
    return "\n".join(out + _sent_lines(sent, args))


def _json(
    found: list[Outage], sent: list[dict[str, Any]], now: datetime, args: argparse.Namespace
) -> str:
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window_start": (now - args.since).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lines": [as_record(o) for o in found],
    }
    if args.notify:
        document["alerts"] = sent
    return json.dumps(document, indent=2, ensure_ascii=False)


def _markdown(
    found: list[Outage], sent: list[dict[str, Any]], now: datetime, args: argparse.Namespace
) -> str:
    out = [f"### {_heading(found, now, args)}"]
    if found:
        out += ["", "| Line | State | Since | Calls | Error | Last | Restored |",
                "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for o in sorted(found, key=lambda o: (not o.failing, o.line.id)):
            restored = clock(o.restored_at, now) if o.restored_at else ""
            error = f"{o.error_code} from `{o.error_url}`" if o.error_url else o.error_code
            out.append(f"| `{o.line.id}` | {o.state} | {clock(o.since, now)} | {len(o.calls)} | "
                       f"{error} | {clock(o.last, now)} | {restored} |")  # fmt: skip
    lines = _sent_lines(sent, args)
    if lines:
        out += [""] + [f"- {line}" for line in lines]
    return "\n".join(out)
