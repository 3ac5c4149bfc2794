"""Exit codes shared by every subcommand (after httpie's ExitStatus).

Must not import: anything else in infra.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a run of ``failover`` ended with; scripts and CI branch on these."""

    OK = 0
    """Done; for ``diff`` and ``drift``: no differences."""
    ERROR = 1
    """Invalid input, or a Twilio or Pulumi failure."""
    USAGE = 2
    """Bad arguments (argparse's own code)."""
    CHANGES = 3
    """``diff`` or ``drift`` found differences."""
    UNSAFE = 4
    """A change crosses a safety limit (too many lines changed, or lines removed)."""
    INTERRUPTED = 130
    """Ctrl-C."""
