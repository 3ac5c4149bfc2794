"""``failover voicemails [FILE] [--line ID] [--since DATE]``: messages callers left in failover.

Like a voicemail box per impacted line: for each line, the recordings made by ``<Record>``
on calls to the line's number, newest first, with caller, time (UTC), duration and the
recording's address. Reads the Recordings list (one request per 1,000, filtered by date)
and the calls those recordings belong to: one fetch per call, or, with ``--since`` and more
messages than lines, one Calls list per line number (``infra.account.live.read_calls``). Which
Twilio fields are relied on, and which of them are unconfirmed, is written in
``infra.account.live`` next to ``read_recordings``.

Limit (unconfirmed how often it matters): Twilio does not say which TwiML document made a
recording, so a primary server that itself records calls with ``<Record>`` on a line's
number shows up here too.
Must not import: twilio (the account is read through infra.account.live only).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from infra.account.voicemails import Voicemail, collect
from infra.cli.env import Env
from infra.cli.options import add_file, add_format
from infra.cli.status import ExitCode
from infra.describe import pretty_number
from infra.errors import InfraError
from infra.lines.load import load_config
from infra.model import Line
from infra.twilio.client import connect

HELP = "list the voicemails callers left through failover, per line (caller, time, duration, link)"


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a date as YYYY-MM-DD, e.g. 2026-01-31") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file(parser)
    parser.add_argument("--line", metavar="ID", help="only this line's voicemails")
    parser.add_argument(
        "--since",
        type=_date,
        metavar="DATE",
        help="only voicemails left on or after this day (UTC)",
    )
    add_format(parser)


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    config, warnings = load_config(env.path(args.file), args.file)
    for warning in warnings:
        env.err(str(warning))
    lines = list(config.lines)
    if args.line:
        try:
            lines = [config.line(args.line)]
        except KeyError:
            known = ", ".join(line.id for line in config.lines)
            raise InfraError(f"--line {args.line}: no such line in {args.file} ({known})") from None
    messages = collect(connect(env.environ), lines, args.since)
    render = {"json": _json, "markdown": _markdown}.get(args.format, _text)
    env.out(render(lines, messages, args.since))
    return ExitCode.OK


def _heading(lines: list[Line], messages: list[Voicemail], since: date | None) -> str:
    period = f" since {since.isoformat()}" if since else ""
    count = len(messages)
    return f"{count} voicemail{'s' if count != 1 else ''} left through failover{period}"


def _text(lines: list[Line], messages: list[Voicemail], since: date | None) -> str:
    out = [_heading(lines, messages, since)]
    for line in lines:
        mine = [m for m in messages if m.line is line]
        if mine:
            out.append(
                f"{line.id}  {line.display_name} · {pretty_number(line.number)}: {len(mine)}"
            )
        for m in mine:
            out.append(
                f"  {m.time}  from {pretty_number(m.caller)}  {m.duration}  {m.recording.url}"
            )
    return "\n".join(out)


def _json(lines: list[Line], messages: list[Voicemail], since: date | None) -> str:
    document: dict[str, Any] = {
        "since": since.isoformat() if since else None,
        "lines": [
            {
                "id": line.id,
                "number": line.number,
                "voicemails": [
                    {
                        "recording_sid": m.recording.sid,
                        "call_sid": m.recording.call_sid,
                        "caller": m.caller,
                        "time": m.recording.created.isoformat() if m.recording.created else None,
                        "duration_s": m.recording.duration_s,
                        "url": m.recording.url,
                    }
                    for m in messages
                    if m.line is line
                ],
            }
            for line in lines
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _markdown(lines: list[Line], messages: list[Voicemail], since: date | None) -> str:
    out = [f"### {_heading(lines, messages, since)}"]
    for line in lines:
        mine = [m for m in messages if m.line is line]
        if not mine:
            continue
        out += ["", f"**{line.display_name}** (`{line.id}`, {pretty_number(line.number)})", ""]
        out += ["| Time | Caller | Duration | Recording |", "| --- | --- | --- | --- |"]
        out += [
            f"| {m.time} | {pretty_number(m.caller)} | {m.duration} | [{m.recording.sid}]({m.recording.url}) |"
            for m in mine
        ]
    return "\n".join(out)
