"""Positions, diagnostics and the exception tree shared by every layer.

A message gives the subject, where, what is wrong, and what to do, in that order.
Secret values never appear in any message: name the config key instead.
Must not import: twilio, pulumi, yaml, anything else in infra.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A place in an input file; 1-based line and column, as editors count."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = SourceRef("<none>", 0, 0)
"""Placeholder position for objects built in code rather than loaded from a file."""


class Level(enum.Enum):
    """How bad a diagnostic is: errors stop the run, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


_ONE_LINE = {ord(c): f"\\u{ord(c):04x}" for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in an input file, in the format editors and CI annotations read."""

    where: SourceRef
    level: Level
    message: str
    path: str = ""
    """JSON-ish path of the offending value, e.g. ``lines[2].failover.forward``."""

    def __str__(self) -> str:
        suffix = f" ({self.path})" if self.path else ""
        text = f"{self.where}: {self.level.value}: {self.message}{suffix}"
        return text.translate(_ONE_LINE)  # one diagnostic, one line, whatever the input held

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR


def summarize(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> str:
    """Return the closing count line, e.g. ``2 errors, 1 warning``."""
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"


class InfraError(Exception):
    """Root of every error this tool raises on purpose; the CLI prints it without a traceback."""


class ConfigError(InfraError):
    """The input file is wrong; carries every diagnostic found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ProviderError(InfraError):
    """A Twilio call failed; names the line (logical resource), status, Twilio code and docs link."""

    def __init__(
        self,
        resource: str,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        method: str = "",
        uri: str = "",
    ) -> None:
        self.resource = resource
        self.status = status
        self.code = code
        self.method = method
        self.uri = uri
        parts = [f"{resource}: {message}"]
        if status is not None or code is not None:
            parts.append(f"(HTTP {status}, Twilio error {code}")
            parts[-1] += f", {method} {uri})" if method else ")"
        if code:
            parts.append(f"see https://www.twilio.com/docs/errors/{code}")
        super().__init__(" ".join(parts))
