"""``failover plan [FILE]``: what every line does when its primary fails; offline, no credentials.

``--format text`` for people, ``json`` for scripts, ``markdown`` (table + Mermaid) for PRs.
``--out DIR`` also writes every rendered Twilio artifact, so reviewers and CI can diff them.
The markdown stays under GitHub's comment limit at any size (``infra.review``); ``--details
FILE`` writes the whole table.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra.cli.env import Env
from infra.cli.options import add_details, add_file, add_format, add_severity
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.describe import describe_alerts, line_summary, pretty_number
from infra.errors import InfraError
from infra.expiry import expired_tests, mode_state
from infra.lines.load import load_config
from infra.model import LinesConfig, Severity
from infra.review import code, plan_details, plan_markdown
from infra.safe_write import write_stamped

HELP = "show, per line, who answers normally and exactly what happens when the primary fails"
TEST_MARK = "✗ TEST MODE"
QUEUE_TEST_MARK = "✗ QUEUE TEST"

EXAMPLES = """  failover plan                                   # the shipped lines.yaml, severity minor
  failover plan --severity severe --format markdown
  failover plan --out build/                      # every artifact that would be deployed"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file(parser)
    add_severity(
        parser, "outage severity to plan for; severe sends shared lines with a queue into it"
    )
    add_format(parser)
    add_details(parser)
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="also write every rendered artifact (TwiML, Studio JSON, TaskRouter, Functions) under DIR",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --out: overwrite files in DIR that an earlier plan --out did not write",
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    config, warnings = load_config(env.path(args.file), args.file)
    for warning in warnings:
        env.err(str(warning))
    severity = Severity(args.severity)
    from infra.routing import capacity_problems

    problems = capacity_problems(config)
    if problems:
        raise InfraError("; ".join(problems))
    records = [line_summary(line, config, severity) for line in config.lines]
    now = env.now()
    for line, record in zip(config.lines, records, strict=True):
        state = mode_state(line, now)
        if state is not None and line.test_until is not None:
            record["test_state"] = state
    for expired in expired_tests(config, now):
        env.err(f"{expired.where}: warning: {expired.sentence()}")
    if args.details:  # first: a file in the way stops the run before any report is printed
        text = plan_details(heading=_heading(config, severity), records=records)
        write_stamped(env.path(args.details), text, what="plan --details", shown=args.details)
        env.err(f"wrote every line's plan to {args.details}")
    if args.format == "json":
        env.out(json.dumps(_document(config, severity, records), indent=2, ensure_ascii=False))
    elif args.format == "markdown":
        env.out(
            plan_markdown(
                heading=_heading(config, severity) + _alerts_paragraph(config),
                records=records,
                lines=config.lines,
                severity=severity,
                details=args.details,
            )
        )
    else:
        env.out(_text(config, severity, records))
    if args.out:
        from infra.render.artifacts import (
            write_artifacts,
        )  # the render layer is optional for plain plans

        written = write_artifacts(config, severity, env.path(args.out), force=args.force)
        env.err(f"wrote {len(written)} artifacts under {args.out}")
    return ExitCode.OK


def _document(
    config: LinesConfig, severity: Severity, records: list[dict[str, Any]]
) -> dict[str, Any]:
    document = {
        "format_version": FORMAT_VERSION,
        "file": config.source,
        "account": config.account,
        "severity": severity.value,
        "lines": records,
    }
    if config.alerts_webhook is not None:  # only with alerts.webhook (outputs stay as they were)
        document["alerts"] = {
            "webhook": config.alerts_webhook,
            "payload": config.alerts_payload,
            "summary_every_minutes": config.alerts_summary_every,
            "sent_by": "failover status --notify",
            "events": ["failover", "summary", "restored", "voicemail"],
            "signature_header": "X-Failover-Signature",
        }
    return document


def _text(config: LinesConfig, severity: Severity, records: list[dict[str, Any]]) -> str:
    out = [
        f"Failover plan for {config.source} (account {config.account}, severity {severity.value}): "
        f"{len(records)} lines, {sum(r['test'] for r in records)} in test mode",
        "",
    ]
    alerts = describe_alerts(config)
    if alerts:
        out[-1:-1] = [alerts]
    width = max(len(r["id"]) for r in records)
    for record in records:
        head = f"{record['id']:<{width}}  {record['name']} · {record['type']} · {pretty_number(record['number'])}"
        state = f" ({record['test_state']})" if record.get("test_state") else ""
        if record["test"]:
            head += f"   {TEST_MARK}{state}: calls go straight to the failover"
        elif record.get("queue_test"):
            head += f"   {QUEUE_TEST_MARK}: calls go straight into the call queue"
        out.append(head)
        pad = " " * (width + 2)
        out.append(f"{pad}normally    {record['normally']}")
        out.append(f"{pad}on failure  {record['on_failure']}")
        if record["queue"] and severity is Severity.MINOR:
            out.append(f"{pad}severe      queue for {record['queue']}")
        if record.get("sms"):
            out.append(f"{pad}SMS fails   {record['sms']}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _alerts_paragraph(config: LinesConfig) -> str:
    alerts = describe_alerts(config)
    return f"\n\n{alerts[0].upper()}{alerts[1:]}." if alerts else ""


def _heading(config: LinesConfig, severity: Severity) -> str:
    return (
        f"## Failover plan: {code(config.source)} (account {code(config.account)}, "
        f"severity `{severity.value}`)"
    )
