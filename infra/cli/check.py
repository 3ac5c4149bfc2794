"""``failover check [FILE]``: would each line's failover work if its primary failed now?

Read-only against the live account, for scheduled CI next to ``drift``. Reads the account as
drift does, then walks each line's failover path as Twilio would (``infra.account.check``):
the fallback URL and method are this stack's and current, each document answers signed
requests with TwiML whose redirects and actions resolve, flows exist, are published and match,
the ``<Enqueue>`` workflow and its wait Function answer, every dialled number is an outside
number the account may call (Voice Dialing Geographic Permissions), a queued line has an agent
On Duty at severity severe; lines in test mode are listed. ``--probe-secondary`` also sends a
signed POST, like Twilio's after a failed primary, to each ``failover.url`` (it calls your
server) and wants TwiML within ``--probe-timeout`` seconds (Twilio waits 15).

Exit 0 ready, 3 not ready (each broken hop named with its line), 1 error. Credentials:
``TWILIO_ACCOUNT_SID`` with ``TWILIO_AUTH_TOKEN`` (the auth token signs the requests as
Twilio signs them; an API key cannot); never printed, nor are credentials inside live URLs.
Must not import: twilio (the account is read through infra.account only).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from infra.account.agents import read_roster
from infra.account.check import Account, Hop, check_lines, country_reader, stack_hops
from infra.account.drift import compare
from infra.cli import drift
from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.errors import InfraError
from infra.model import Line, LinesConfig, Severity
from infra.redact import scrub
from infra.stack import cli_settings
from infra.twilio.client import Twilio
from infra.twilio.webhooks import TWILIO_TIMEOUT_S, Webhooks

HELP = "walk each line's failover path as Twilio would (read-only): is every line ready?"

EXAMPLES = """  failover check --stack prod                        # Pulumi.prod.yaml gives file and severity
  failover check --line sales --line main            # only these lines
  failover check --probe-secondary                   # also POST to each failover.url (your servers)
  failover check --format markdown >> "$GITHUB_STEP_SUMMARY"
"""


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < seconds <= 60:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 60 seconds")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    drift.add_arguments(parser)
    parser.add_argument(
        "--line",
        metavar="ID",
        action="append",
        default=[],
        help="check only this line (repeatable; default: every line)",
    )
    parser.add_argument(
        "--probe-secondary",
        action="store_true",
        help="also send a signed POST like Twilio's to each failover.url (calls your server)",
    )
    parser.add_argument(
        "--probe-timeout",
        metavar="SECONDS",
        type=_seconds,
        default=TWILIO_TIMEOUT_S,
        help=f"how long a secondary server may take to answer (default {TWILIO_TIMEOUT_S:g}, as Twilio)",
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    file, config, severity, concurrency, stack = drift.resolve(args, env)
    lines = _selected(config, args.line)
    settings = cli_settings(env.environ, concurrency, stack)
    web = Webhooks(settings)
    if not web.can_sign:
        raise InfraError(
            "failover check requests each document as Twilio does, signed with the account's "
            "auth token: set TWILIO_AUTH_TOKEN (an API key cannot sign)"
        )
    tw = Twilio(settings)
    snapshot = drift.read(config, args.stack, env, concurrency, stack)
    severe = severity is Severity.SEVERE and any(line.queue for line in lines)
    account = Account(
        config=config,
        severity=severity,
        snapshot=snapshot,
        findings=compare(config, severity, snapshot),
        web=web,
        countries=country_reader(tw),
        account_sid=settings.account_sid,
        roster=read_roster(tw, config) if severe and snapshot.taskrouter else None,
        probe_secondary=args.probe_secondary,
        probe_timeout_s=args.probe_timeout,
    )
    try:
        hops = check_lines(account, lines, tw.concurrency)
    finally:
        web.close()
    report = Report(file, snapshot.stack, severity, lines, hops, stack_hops(account))
    env.out({"json": _json, "markdown": _markdown}.get(args.format, _text)(report))
    return ExitCode.OK if report.ready else ExitCode.CHANGES


def _selected(config: LinesConfig, ids: list[str]) -> list[Line]:
    known = {line.id: line for line in config.lines}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InfraError(
            f"--line {', '.join(unknown)}: no such line in {config.source} "
            f"(lines: {', '.join(known) or 'none'})"
        )
    return [known[i] for i in dict.fromkeys(ids)] if ids else list(config.lines)


# ---- output -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    file: str
    stack: str
    severity: Severity
    lines: list[Line]
    hops: list[list[Hop]]
    """Per line, in the lines' order."""
    stack_problems: list[Hop]

    @property
    def problems(self) -> list[Hop]:
        return self.stack_problems + [h for hops in self.hops for h in hops if not h.ok]

    @property
    def notices(self) -> list[Hop]:
        return [h for hops in self.hops for h in hops if h.notice]

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        count = sum(len(h) for h in self.hops)
        scope = (
            f"{_count(len(self.lines), 'line')}, {_count(count, 'hop')} "
            f"(stack {self.stack}, severity {self.severity.value})"
        )
        if self.ready:
            return f"{scope}: ready"
        broken = list(dict.fromkeys(h.line for h in self.problems))
        return f"{scope}: not ready: {', '.join(broken)}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _text(report: Report) -> str:
    out = [f"{report.file}: {report.summary}"]
    out += [f"  {h.line}  {h.hop}: {h.problem}" for h in report.problems]
    out += [f"  {h.line}  {h.hop}: note: {h.notice}" for h in report.notices]
    return scrub("\n".join(out))


def _json(report: Report) -> str:
    def hop(h: Hop) -> dict[str, Any]:
        return {"hop": h.hop, "ok": h.ok, "problem": h.problem, "notice": h.notice}

    document = {
        "format_version": FORMAT_VERSION,
        "file": report.file,
        "stack": report.stack,
        "severity": report.severity.value,
        "ready": report.ready,
        "stack_problems": [hop(h) for h in report.stack_problems],
        "lines": [
            {"line": line.id, "ready": all(h.ok for h in hops), "hops": [hop(h) for h in hops]}
            for line, hops in zip(report.lines, report.hops, strict=True)
        ],
    }
    return scrub(json.dumps(document, indent=2, ensure_ascii=False))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(report: Report) -> str:
    out = [f"### Readiness: `{report.file}` against Twilio", "", f"{report.summary}."]
    if report.problems:
        out += ["", "| Line | Hop | Problem |", "| --- | --- | --- |"]
        out += [f"| `{h.line}` | {_cell(h.hop)} | {_cell(h.problem)} |" for h in report.problems]
    if report.notices:
        out += ["", "| Line | Hop | Note |", "| --- | --- | --- |"]
        out += [f"| `{h.line}` | {_cell(h.hop)} | {_cell(h.notice)} |" for h in report.notices]
    return scrub("\n".join(out))
