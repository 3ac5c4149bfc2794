"""``failover plan [FILE]``: what every line does when its primary fails; offline, no credentials.

``--format text`` for people, ``json`` for scripts, ``markdown`` (table + Mermaid) for PRs.
``--out DIR`` also writes every rendered Twilio artifact, so reviewers and CI can diff them.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra.cli.env import Env
from infra.cli.options import add_file, add_format, add_severity
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.describe import line_summary, pretty_number
from infra.diagram import flowchart
from infra.errors import InfraError
from infra.lines.load import load_config
from infra.model import LinesConfig, Severity

HELP = "show, per line, who answers normally and exactly what happens when the primary fails"
TEST_MARK = "✗ TEST MODE"

EXAMPLES = """  failover plan                                   # the shipped lines.yaml, severity minor
  failover plan --severity severe --format markdown
  failover plan --out build/                      # every artifact that would be deployed"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file(parser)
    add_severity(
        parser, "outage severity to plan for; severe sends shared lines with a queue into it"
    )
    add_format(parser)
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
    if args.format == "json":
        env.out(json.dumps(_document(config, severity, records), indent=2, ensure_ascii=False))
    elif args.format == "markdown":
        env.out(_markdown(config, severity, records))
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
    return {
        "format_version": FORMAT_VERSION,
        "file": config.source,
        "account": config.account,
        "severity": severity.value,
        "lines": records,
    }


def _text(config: LinesConfig, severity: Severity, records: list[dict[str, Any]]) -> str:
    out = [
        f"Failover plan for {config.source} (account {config.account}, severity {severity.value}): "
        f"{len(records)} lines, {sum(r['test'] for r in records)} in test mode",
        "",
    ]
    width = max(len(r["id"]) for r in records)
    for record in records:
        head = f"{record['id']:<{width}}  {record['name']} · {record['type']} · {pretty_number(record['number'])}"
        out.append(
            f"{head}   {TEST_MARK}: calls go straight to the failover" if record["test"] else head
        )
        pad = " " * (width + 2)
        out.append(f"{pad}normally    {record['normally']}")
        out.append(f"{pad}on failure  {record['on_failure']}")
        if record["queue"] and severity is Severity.MINOR:
            out.append(f"{pad}severe      queue for {record['queue']}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(config: LinesConfig, severity: Severity, records: list[dict[str, Any]]) -> str:
    out = [
        f"## Failover plan: `{config.source}` (account `{config.account}`, severity `{severity.value}`)",
        "",
        "| Line | Number | Normally | When the primary fails | Test |",
        "| --- | --- | --- | --- | --- |",
    ]
    for record in records:
        test = "❌ test mode" if record["test"] else ""
        out.append(
            f"| **{_cell(record['name'])}** (`{record['id']}`, {record['type']}) | {pretty_number(record['number'])} "
            f"| {_cell(record['normally'])} | {_cell(record['on_failure'])} | {test} |"
        )
    out += ["", flowchart(config.lines, severity), ""]
    return "\n".join(out)
