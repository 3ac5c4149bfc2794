"""Run the ``failover`` CLI in-process and capture what it printed (httpie's test helper, trimmed)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from infra.cli.env import Env
from infra.cli.main import main
from infra.cli.status import ExitCode


@dataclass
class Result:
    code: ExitCode
    stdout: str
    stderr: str


def failover(*args: str, cwd: Path | None = None, environ: dict[str, str] | None = None) -> Result:
    """Run ``failover ARGS`` with ``--traceback`` so an unexpected crash fails the test loudly."""
    out, err = io.StringIO(), io.StringIO()
    env = Env(stdout=out, stderr=err, cwd=cwd or Path.cwd(), environ=environ or {})
    code = main(["--traceback", *args], env)
    return Result(code, out.getvalue(), err.getvalue())
