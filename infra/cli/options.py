"""Arguments several subcommands share, declared once so their spelling and help agree.

Must not import: anything in infra except model.
"""

from __future__ import annotations

import argparse

from infra.model import Severity

FORMATS = ("text", "json", "markdown")


def add_file(parser: argparse.ArgumentParser) -> None:
    """The optional positional lines file."""
    parser.add_argument(
        "file", nargs="?", default="lines.yaml", help="the lines file (default: lines.yaml)"
    )


def add_severity(parser: argparse.ArgumentParser, purpose: str) -> None:
    """``--severity minor|severe``; ``purpose`` says what it changes for this command."""
    parser.add_argument(
        "--severity",
        choices=[s.value for s in Severity],
        default=Severity.MINOR.value,
        help=f"{purpose} (default: minor)",
    )


def add_format(parser: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
    """``--format``: text for people, json for scripts, markdown for PR comments and summaries."""
    parser.add_argument(
        "--format", choices=formats, default="text", help="output format (default: text)"
    )


def add_details(parser: argparse.ArgumentParser) -> None:
    """``--details FILE``: the full per-line Markdown, which the markdown report may summarise."""
    parser.add_argument(
        "--details",
        metavar="FILE",
        help="also write every line's detail, unsummarised, as Markdown to FILE (never "
        "overwrites a file failover did not write); --format markdown points reviewers to it",
    )
