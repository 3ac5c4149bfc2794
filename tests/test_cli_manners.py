"""CLI manners a platform engineer expects: help without arguments, suggestions, no
abbreviations, exit codes in help, and a closed pipe that ends quietly."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from infra.cli.env import Env
from infra.cli.main import SUBCOMMANDS, main
from infra.cli.status import ExitCode
from tests.harness.cli_runner import failover

ROOT = Path(__file__).resolve().parent.parent


def test_bare_failover_prints_help_and_succeeds() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main([], Env(stdout=out, stderr=err, cwd=ROOT, environ={}))
    assert code == ExitCode.OK and err.getvalue() == ""
    help_text = out.getvalue()
    assert help_text.startswith("usage: failover")
    for name in SUBCOMMANDS:
        assert name in help_text
    assert "exit codes:" in help_text and "TWILIO_ACCOUNT_SID" in help_text


def test_a_mistyped_subcommand_gets_a_suggestion() -> None:
    result = failover("valdate", cwd=ROOT)
    assert result.code == ExitCode.USAGE
    assert "(did you mean 'validate'?)" in result.stderr


def test_options_are_never_abbreviated() -> None:
    """`--sev` would silently mean --severity until a second --sev… option arrives."""
    result = failover("plan", "--sev", "severe", cwd=ROOT)
    assert result.code == ExitCode.USAGE
    assert "unrecognized arguments: --sev" in result.stderr


def test_every_subcommand_help_lists_the_exit_codes() -> None:
    for name in SUBCOMMANDS:
        result = failover(name, "--help", cwd=ROOT)
        assert result.code == ExitCode.OK, name
        assert "exit codes:" in result.stdout, name


def test_a_closed_pipe_ends_quietly() -> None:
    """`failover plan | head -1`: no traceback, no "This is a bug" when the reader leaves."""
    for args in (["plan", "lines.yaml"], []):
        process = subprocess.Popen(
            [sys.executable, "-m", "infra", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.read(10)
        process.stdout.close()  # the reader leaves after the first bytes
        stderr = process.stderr.read().decode()
        process.stderr.close()
        process.wait(timeout=60)
        assert "Traceback" not in stderr and "bug" not in stderr, stderr
        assert process.returncode == 0, (args, stderr)
