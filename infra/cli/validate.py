"""``failover validate [FILE]``: check lines.yaml offline; no network, no credentials."""

from __future__ import annotations

import argparse
import json

from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.errors import ConfigError, summarize
from infra.load import load_config

HELP = (
    "check lines.yaml against the schema and the rules; print every problem with file:line:column"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", default="lines.yaml", help="the lines file (default: lines.yaml)"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    try:
        config, diagnostics = load_config(env.path(args.file), args.file)
    except ConfigError as exc:
        if args.format == "json":
            _json(env, args.file, exc.diagnostics, ok=False)
            return ExitCode.ERROR
        raise
    if args.format == "json":
        _json(env, args.file, diagnostics, ok=True)
        return ExitCode.OK
    for diagnostic in diagnostics:
        env.err(str(diagnostic))
    env.out(
        f"{args.file}: ok, {len(config.lines)} lines, {len(config.agents)} agents ({summarize(diagnostics)})"
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
