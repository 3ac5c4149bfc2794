"""``failover drift [FILE]``: does the live Twilio account still do what lines.yaml says?

For scheduled CI. Reads the account with the fewest requests (``infra.account.live``), compares it
with what the deployed stack should hold (``infra.account.drift``) and prints every difference
naming the line and the field. Also lists, without changing the exit code, the numbers no
line declares: this tool gives them no failover. A terminal gets a progress indicator on
stderr while numbers are read.

Reads run ``--concurrency`` requests at a time (else the stack's ``failover:concurrency``,
else ``FAILOVER_CONCURRENCY``, else 10; ``infra.twilio.concurrency`` says why 10).

Exit 0 clean, 3 differences, 1 error. Credentials: ``TWILIO_ACCOUNT_SID`` with
``TWILIO_AUTH_TOKEN`` (or ``TWILIO_API_KEY``/``TWILIO_API_SECRET``) from the environment;
never printed.
Must not import: twilio (the account is read through infra.account.live only).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from infra.account.agents import on_duty_warnings, read_roster
from infra.account.drift import Finding, Snapshot, compare, read_snapshot
from infra.account.live import LiveNumber
from infra.cli.env import Env
from infra.cli.options import add_format
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.errors import InfraError
from infra.expiry import expired_tests
from infra.lines.load import load_config
from infra.model import LinesConfig, Severity
from infra.redact import scrub
from infra.render.studio import flow_specs
from infra.stack import (
    DEFAULT_CONCURRENCY,
    DEFAULT_LINES_FILE,
    MAX_CONCURRENCY,
    StackFile,
    deprecated_key_warnings,
    parse_concurrency,
    read_stack_file,
)
from infra.twilio.client import connect

HELP = "compare the live Twilio account with lines.yaml: fallbacks, primaries, flows, queues"

EXAMPLES = """  failover drift --stack prod                     # Pulumi.prod.yaml gives file and severity
  failover drift --format markdown >> "$GITHUB_STEP_SUMMARY"
  failover drift --concurrency 30                 # a large account, read faster
"""


def _concurrency(value: str) -> int:
    try:
        return parse_concurrency(value, "--concurrency")
    except InfraError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--concurrency ")) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default=None,
        help="the lines file (default: the stack's, else lines.yaml)",
    )
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help=(
            "Pulumi stack to check; its Pulumi.NAME.yaml gives the lines file and severity "
            "(default: the only stack of the account name deployed)"
        ),
    )
    parser.add_argument(
        "--severity",
        choices=[s.value for s in Severity],
        default=None,
        help="the severity the stack is deployed with (default: the stack's failover:severity, else minor)",
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=_concurrency,
        default=None,
        help=(
            f"Twilio requests in flight at once, 1-{MAX_CONCURRENCY} (default: the stack's "
            f"failover:concurrency, else FAILOVER_CONCURRENCY, else {DEFAULT_CONCURRENCY}); "
            "the account's limit is shared with its live calls"
        ),
    )
    add_format(parser)


def resolve(
    args: argparse.Namespace, env: Env
) -> tuple[str, LinesConfig, Severity, int | None, StackFile | None]:
    """(file, config, severity, concurrency, stack file) from the arguments, else ``Pulumi.<stack>.yaml``
    (``--stack``), else the defaults; the file's warnings go to stderr."""
    stack = read_stack_file(env.cwd, args.stack) if args.stack else None
    settings = stack.settings() if stack else None
    file = args.file or (settings.lines_file if settings else DEFAULT_LINES_FILE)
    config, warnings = load_config(env.path(file), file)
    for warning in warnings:
        env.err(str(warning))
    severity = (
        Severity(args.severity)
        if args.severity
        else (settings.severity if settings else Severity.MINOR)
    )
    concurrency = args.concurrency or (settings.concurrency if settings else None)
    for deprecated in deprecated_key_warnings(stack.get) if stack else []:
        env.err(f"warning: {deprecated}")
    return file, config, severity, concurrency, stack


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    file, config, severity, concurrency, stack = resolve(args, env)
    snapshot = read(config, args.stack, env, concurrency, stack)
    findings = compare(config, severity, snapshot)
    # An expired test is a finding: the account still sends every call to the failover.
    findings += [
        Finding(expired.line_id, "test", expired.sentence().split(": ", 1)[1])
        for expired in expired_tests(config, env.now())
    ]
    declared = {line.number for line in config.lines}
    undeclared = [n for n in snapshot.numbers if n.phone_number not in declared]
    report = Report(file, config, severity, snapshot, findings, undeclared)
    for duty in duty_warnings(config, severity, snapshot, env, stack):
        env.err(f"warning: {duty}")
    # Live URLs may carry user:password@ (set outside this tool): never printed.
    env.out(scrub({"json": _json, "markdown": _markdown}.get(args.format, _text)(report)))
    return ExitCode.CHANGES if findings else ExitCode.OK


# ---- reading ------------------------------------------------------------------------------


class _Progress:
    """``reading numbers: 2,000/…`` on a terminal's stderr, erased when done; silent otherwise."""

    def __init__(self, env: Env) -> None:
        self.env, self.width = env, 0

    def __call__(self, stage: str, count: int | None = None) -> None:
        if self.env.stderr_isatty:
            message = f"reading {stage}: {count:,}/…" if count is not None else f"reading {stage}…"
            self.width = max(self.width, len(message))
            self.env.stderr.write("\r" + message.ljust(self.width))
            self.env.stderr.flush()

    def done(self) -> None:
        if self.width:
            self.env.stderr.write("\r" + " " * self.width + "\r")
            self.env.stderr.flush()


def read(
    config: LinesConfig,
    stack: str | None,
    env: Env,
    concurrency: int | None = None,
    stack_file: StackFile | None = None,
) -> Snapshot:
    """Everything the comparison needs (``infra.account.drift.read_snapshot``); credentials
    as the program reads them (``stack_file``'s plain keys, then the environment)."""
    tw = connect(env.environ, concurrency, stack_file)
    progress = _Progress(env)
    try:
        return read_snapshot(tw, config, stack, progress)
    finally:
        progress.done()


def duty_warnings(
    config: LinesConfig,
    severity: Severity,
    snapshot: Snapshot,
    env: Env,
    stack_file: StackFile | None = None,
) -> list[str]:
    """At severity severe: queued lines nobody On Duty serves (``infra.account.agents``).
    A warning, not a difference: duty is the agents' to change, not the stack's."""
    if severity is not Severity.SEVERE or not config.queued_lines or snapshot.taskrouter is None:
        return []
    return on_duty_warnings(
        config, severity, read_roster(connect(env.environ, stack=stack_file), config)
    )


# ---- output -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run prints, whatever the format."""

    file: str
    config: LinesConfig
    severity: Severity
    snapshot: Snapshot
    findings: list[Finding]
    undeclared: list[LiveNumber]
    """Numbers of the account no line declares, in Twilio's order."""

    @property
    def subjects(self) -> list[str]:
        return list(dict.fromkeys(f.subject for f in self.findings))

    @property
    def summary(self) -> str:
        if not self.findings:
            return "no differences"
        return f"{_count(len(self.findings), 'difference')} ({', '.join(self.subjects)})"

    @property
    def scope(self) -> str:
        c = self.config
        counts = (len(c.lines), "line"), (len(flow_specs(c)), "flow"), (len(c.agents), "agent")
        declared = ", ".join(_count(n, word) for n, word in counts)
        numbers = _count(len(self.snapshot.numbers), "number")
        return f"{declared} against {numbers} (stack {self.snapshot.stack}, severity {self.severity.value})"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def today(number: LiveNumber) -> str:
    """What an undeclared number does when its primary fails, in a few words."""
    if number.binding:
        return f"{number.binding}: a number-level fallback is ignored"
    if number.voice_fallback_url:
        return f"fallback {number.voice_fallback_url} (not managed by lines.yaml)"
    return "no fallback"


def _text(report: Report) -> str:
    out = [f"{report.file}: {report.scope}: {report.summary}"]
    for f in report.findings:
        out.append(f"  {f.subject}  {f.field}: {f.message}")
        if f.wanted is not None:
            out += [f"      wants {f.wanted}", f"      live  {f.live}"]
    if report.undeclared:
        n = len(report.undeclared)
        verb = "is" if n == 1 else "are"
        out.append(f"{_count(n, 'number')} {verb} not in {report.file} (no failover from it):")
        for number in report.undeclared:
            name = json.dumps(number.friendly_name, ensure_ascii=False)
            out.append(f"  {number.phone_number}  {name}  {today(number)}")
    return "\n".join(out)


def _json(report: Report) -> str:
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "file": report.file,
        "stack": report.snapshot.stack,
        "severity": report.severity.value,
        "clean": not report.findings,
        "differences": [
            {"subject": f.subject, "field": f.field, "message": f.message}
            | ({"wanted": f.wanted, "live": f.live} if f.wanted is not None else {})
            for f in report.findings
        ],
        "undeclared_numbers": [
            {
                "number": n.phone_number,
                "sid": n.sid,
                "friendly_name": n.friendly_name,
                "today": today(n),
            }
            for n in report.undeclared
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _cell(text: str | None) -> str:
    return "" if text is None else _escape("`" + text.replace("`", "'") + "`")


def _markdown(report: Report) -> str:
    out = [
        f"### Drift: `{report.file}` against Twilio",
        "",
        f"{report.scope}: **{report.summary}**.",
    ]
    if report.findings:
        out += ["", "| Line | Field | Problem | Wants | Live |", "| --- | --- | --- | --- | --- |"]
        for f in report.findings:
            message = _escape(f.message)
            out.append(
                f"| `{f.subject}` | `{f.field}` | {message} | {_cell(f.wanted)} | {_cell(f.live)} |"
            )
    if report.undeclared:
        count = _count(len(report.undeclared), "number")
        out += ["", f"<details><summary>{count} not in {report.file}</summary>", ""]
        out += ["| Number | Friendly name | When the primary fails |", "| --- | --- | --- |"]
        for n in report.undeclared:
            name, words = _escape(n.friendly_name), _escape(today(n))
            out.append(f"| {n.phone_number} | {name} | {words} |")
        out += ["", "</details>"]
    return "\n".join(out)
