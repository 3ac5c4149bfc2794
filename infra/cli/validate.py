"""``failover validate [FILE ...]``: check lines files offline; no network, no credentials.

Several files may be given (pre-commit passes every matching file at once); each is
checked and reported, and the exit code is 1 if any is invalid.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.errors import ConfigError, Diagnostic, Level, summarize
from infra.lines.load import load_config
from infra.model import LinesConfig

HELP = (
    "check lines.yaml against the schema and the rules; print every problem with file:line:column"
)


FORMAT_VERSION = 1
"""Bumped when a JSON field changes meaning or disappears; new fields do not bump it."""

EXAMPLES = """  failover validate                        # lines.yaml in this folder
  failover validate lines.yaml lines-emea.yaml --format json
  failover validate --format github        # annotations on the pull request's diff"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="lines files to check (default: lines.yaml)"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help=(
            "output format (default: text); json: one document for all files; github: "
            "workflow-command annotations (::error file=…,line=…,col=…::…)"
        ),
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    results = [_check(file, env) for file in args.files or ["lines.yaml"]]
    if args.format == "json":
        env.out(json.dumps(_document(results), indent=2, ensure_ascii=False))
    else:
        for result in results:
            (_github if args.format == "github" else _text)(result, env)
    return ExitCode.ERROR if any(not r.ok for r in results) else ExitCode.OK


@dataclass(frozen=True, slots=True)
class _Result:
    file: str
    ok: bool
    diagnostics: list[Diagnostic]
    config: LinesConfig | None


def _check(file: str, env: Env) -> _Result:
    try:
        config, diagnostics = load_config(env.path(file), file)
    except ConfigError as exc:
        return _Result(file, False, list(exc.diagnostics), None)
    return _Result(file, True, list(diagnostics), config)


def _text(result: _Result, env: Env) -> None:
    for diagnostic in result.diagnostics:
        env.err(str(diagnostic))
    if result.config is None:
        env.err(summarize(result.diagnostics))
        return
    config = result.config
    env.out(
        f"{result.file}: ok, {len(config.lines)} lines, {len(config.agents)} agents "
        f"({summarize(result.diagnostics)})"
    )


def _github(result: _Result, env: Env) -> None:
    """GitHub Actions workflow commands: one annotation per diagnostic, on stdout."""
    for d in result.diagnostics:
        command = "error" if d.level is Level.ERROR else "warning"
        where = ",".join(
            f"{key}={_escape(str(value), property_=True)}"
            for key, value in (
                ("file", d.where.file),
                ("line", d.where.line),
                ("col", d.where.column),
            )
            if value
        )
        env.out(f"::{command} {where}::{_escape(d.message)}")
    if result.ok:
        env.out(f"{result.file}: ok ({summarize(result.diagnostics)})")


def _escape(text: str, *, property_: bool = False) -> str:
    """Escape data for a workflow command (as @actions/core does)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_ else text


def _document(results: list[_Result]) -> dict[str, object]:
    return {
        "format_version": FORMAT_VERSION,
        "ok": all(r.ok for r in results),
        "files": [
            {
                "file": r.file,
                "ok": r.ok,
                "lines": len(r.config.lines) if r.config else None,
                "agents": len(r.config.agents) if r.config else None,
            }
            for r in results
        ],
        "diagnostics": [
            {
                "file": d.where.file,
                "line": d.where.line,
                "column": d.where.column,
                "level": d.level.value,
                "message": d.message,
                "path": d.path,
            }
            for r in results
            for d in r.diagnostics
        ],
    }
