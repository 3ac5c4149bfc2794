"""``failover drift [FILE]``: does the live Twilio account still do what lines.yaml says?

For scheduled CI. Reads the account with the fewest requests (``infra.live``), compares it
with what the deployed stack should hold (``infra.drift``) and prints every difference
naming the line and the field. Also lists, without changing the exit code, the numbers no
line declares: this tool gives them no failover. A terminal gets a progress indicator on
stderr while numbers are read.

Exit 0 clean, 3 differences, 1 error. Credentials: ``TWILIO_ACCOUNT_SID`` with
``TWILIO_AUTH_TOKEN`` (or ``TWILIO_API_KEY``/``TWILIO_API_SECRET``) from the environment;
never printed.
Must not import: twilio (the account is read through infra.live only).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from infra.cli.env import Env
from infra.cli.options import add_file, add_format, add_severity
from infra.cli.status import ExitCode
from infra.drift import Finding, Snapshot, compare
from infra.errors import InfraError
from infra.lines.load import load_config
from infra.live import (
    LiveNumber,
    connect,
    domain_of,
    find_services,
    read_flows,
    read_numbers,
    read_taskrouter,
)
from infra.model import LinesConfig, Severity
from infra.naming import service_unique_name, workflow_name, workspace_name
from infra.render.studio import flow_specs
from infra.twilio.client import Twilio

HELP = "compare the live Twilio account with lines.yaml: fallbacks, primaries, flows, queues"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file(parser)
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="Pulumi stack to check (default: the only stack of the account name deployed)",
    )
    add_severity(parser, "the severity the stack is deployed with (failover:severity)")
    add_format(parser)


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    config, warnings = load_config(env.path(args.file), args.file)
    for warning in warnings:
        env.err(str(warning))
    severity = Severity(args.severity)
    snapshot = read(config, args.stack, env)
    findings = compare(config, severity, snapshot)
    declared = {line.number for line in config.lines}
    undeclared = [n for n in snapshot.numbers if n.phone_number not in declared]
    report = Report(args.file, config, severity, snapshot, findings, undeclared)
    env.out({"json": _json, "markdown": _markdown}.get(args.format, _text)(report))
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


def read(config: LinesConfig, stack: str | None, env: Env) -> Snapshot:
    """Everything the comparison needs, within the request budget of ``infra.live``."""
    tw = connect(env.environ)
    progress = _Progress(env)
    try:
        numbers = read_numbers(tw, progress)
        progress("Studio flows")
        flows = read_flows(tw, {spec.name: spec.line.id for spec in flow_specs(config)})
        snapshot = Snapshot(numbers, flows)
        _read_stack(tw, config, stack, snapshot)
        if config.queued_lines:
            progress("TaskRouter")
            name = workspace_name(config.account)
            agents = [agent.id for agent in config.agents]
            snapshot.taskrouter = read_taskrouter(tw, name, workflow_name(config.account), agents)
            if snapshot.taskrouter is None:
                missing = Finding("stack", "taskrouter", f"TaskRouter workspace {name} is missing")
                snapshot.problems.append(missing)
    finally:
        progress.done()
    return snapshot


def _read_stack(tw: Twilio, config: LinesConfig, stack: str | None, snapshot: Snapshot) -> None:
    """Find the stack's Serverless service (by name, or the only one of the account name)."""
    prefix = f"{config.account}-failover-"
    try:
        name = service_unique_name(config.account, stack) if stack else ""
    except ValueError as exc:
        raise InfraError(f"--stack {stack}: {exc}") from None
    found = find_services(tw, name, prefix)
    if len(found) > 1:
        stacks = ", ".join(unique.removeprefix(prefix) for unique, _ in found)
        raise InfraError(
            f"the account holds several stacks of {config.account} ({stacks}); pass --stack NAME"
        )
    if not found:
        message = f"Serverless service {name or prefix + '<stack>'} is missing: nothing is deployed"
        snapshot.stack = stack or "?"
        snapshot.problems.append(Finding("stack", "serverless_service", message))
        return
    unique, sid = found[0]
    snapshot.stack = stack or unique.removeprefix(prefix)
    snapshot.domain = domain_of(tw, sid)
    if not snapshot.domain:
        message = f"Serverless service {unique} has no environment to serve documents"
        snapshot.problems.append(Finding("stack", "serverless_environment", message))


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
        for n in report.undeclared:
            out.append(
                f"  {n.phone_number}  {json.dumps(n.friendly_name, ensure_ascii=False)}  {today(n)}"
            )
    return "\n".join(out)


def _json(report: Report) -> str:
    document: dict[str, Any] = {
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
