"""The streams and working directory a command runs with, so tests run the CLI in-process.

Must not import: anything else in infra.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO


@dataclass
class Env:
    """Where output goes and where relative paths start (httpie's Environment, trimmed)."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    cwd: Path = field(default_factory=Path.cwd)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The current time (UTC) for reports that depend on it (test mode until …)."""

    def now(self) -> datetime:
        return self.clock()

    @property
    def stderr_isatty(self) -> bool:
        return bool(getattr(self.stderr, "isatty", lambda: False)())

    def path(self, name: str) -> Path:
        """Resolve a user-given path against the working directory."""
        candidate = Path(name)
        return candidate if candidate.is_absolute() else self.cwd / candidate

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str = "") -> None:
        print(text, file=self.stderr)
