"""``failover validate [FILE ...]``: check lines files offline; no network, no credentials.

Several files may be given (pre-commit passes every matching file at once); each is
checked and reported, and the exit code is 1 if any is invalid.
"""

from __future__ import annotations

import argparse
import json

from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.errors import ConfigError, summarize
from infra.lines.load import load_config

HELP = (
    "check lines.yaml against the schema and the rules; print every problem with file:line:column"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="lines files to check (default: lines.yaml)"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    worst = ExitCode.OK
    for file in args.files or ["lines.yaml"]:
        worst = max(worst, _validate_one(file, args.format, env))
    return worst


def _validate_one(file: str, output: str, env: Env) -> ExitCode:
    try:
        config, diagnostics = load_config(env.path(file), file)
    except ConfigError as exc:
        if output == "json":
            _json(env, file, exc.diagnostics, ok=False)
        else:
            for diagnostic in exc.diagnostics:
                env.err(str(diagnostic))
            env.err(summarize(exc.diagnostics))
        return ExitCode.ERROR
    if output == "json":
        _json(env, file, diagnostics, ok=True)
        return ExitCode.OK
    for diagnostic in diagnostics:
        env.err(str(diagnostic))
    env.out(
        f"{file}: ok, {len(config.lines)} lines, {len(config.agents)} agents ({summarize(diagnostics)})"
    )
    return ExitCode.OK


def _json(env: Env, file: str, diagnostics: list, *, ok: bool) -> None:
    records = [
        {
            "file": d.where.file,
            "line": d.where.line,
            "column": d.where.column,
            "level": d.level.value,
            "message": d.message,
            "path": d.path,
        }
        for d in diagnostics
    ]
    env.out(json.dumps({"file": file, "ok": ok, "diagnostics": records}, indent=2))
