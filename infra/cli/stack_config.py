"""``failover stack-config --stack NAME``: the stack's lines file and severity, for scripts.

The same reader the Pulumi program uses (``infra.stack``), so a workflow never re-parses
``Pulumi.<stack>.yaml`` itself::

    failover stack-config --stack dev --format env >> "$GITHUB_ENV"   # LINES_FILE=…, SEVERITY=…
"""

from __future__ import annotations

import argparse
import json

from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.stack import read_stack_file

HELP = "print a stack's lines file and severity from Pulumi.<stack>.yaml (for CI scripts)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack", metavar="NAME", default="", help="the Pulumi stack (empty: the defaults)"
    )
    parser.add_argument(
        "--format",
        choices=("env", "json"),
        default="env",
        help="env: KEY=value lines for $GITHUB_ENV (default); json: one object",
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    settings = read_stack_file(env.cwd, args.stack).settings()
    values = {
        "stack": settings.stack,
        "lines_file": settings.lines_file,
        "severity": settings.severity.value,
    }
    if args.format == "json":
        env.out(json.dumps(values, sort_keys=True))
    else:
        env.out(f"LINES_FILE={values['lines_file']}\nSEVERITY={values['severity']}")
    return ExitCode.OK
