"""Failover test mode in time: when a test ends, and whether it started too early.

``test: {until: 2026-12-01T06:00:00Z}`` says when a line's test is meant to end. Nothing here
changes routing: a test stays deployed until ``test`` is removed from lines.yaml (a deploy
must not depend on the clock), and an expired test is *reported*: by ``plan`` (the line's
mark), ``drift`` (a finding), ``diff`` (a warning) and the readiness check, which calls
``expired_tests``.

The 24-hour rule (after Dialpad, whose failover tests run 24 hours after the failover number
is set): a test that starts less than ``EARLY_TEST_HOURS`` after the line's failover was
deployed (the time the ledger records, ``infra.providers.line_ledger``) is a warning, unless
the line says ``test: {until: ..., early: true}``.

Pure. Must not import: pulumi, twilio, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infra.errors import NOWHERE, SourceRef
from infra.model import Line, LinesConfig

EARLY_TEST_HOURS = 24
UNTIL_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_time(text: str) -> datetime:
    """``2026-12-01T06:00:00Z`` → an aware UTC datetime (the only form lines.yaml accepts)."""
    return datetime.strptime(text, UNTIL_FORMAT).replace(tzinfo=UTC)


def shown(moment: datetime) -> str:
    """How reports write a time: ``2026-12-01 06:00 UTC``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def is_expired(line: Line, now: datetime) -> bool:
    """True when the line is in test mode and its ``until`` has passed."""
    return line.test and line.test_until is not None and parse_time(line.test_until) <= now


def mode_state(line: Line, now: datetime) -> str | None:
    """``test mode``, ``test mode until …`` or ``test mode expired at …``; None when the line
    is not in test mode."""
    if not line.test:
        return None
    if line.test_until is None:
        return "test mode"
    until = parse_time(line.test_until)
    if until <= now:
        return f"test mode expired at {shown(until)}"
    return f"test mode until {shown(until)}"


@dataclass(frozen=True, slots=True)
class ExpiredTest:
    """A line still in test mode after its ``test.until``."""

    line_id: str
    until: datetime
    where: SourceRef = NOWHERE

    def sentence(self) -> str:
        return (
            f"{self.line_id}: test mode expired at {shown(self.until)}; calls still go straight "
            "to the failover: remove `test` from the line (or set a later until)"
        )


def expired_tests(config: LinesConfig, now: datetime | None = None) -> list[ExpiredTest]:
    """Every line whose test has expired at ``now`` (default: the current time), in file
    order. The readiness check reports each as a problem."""
    moment = now or datetime.now(UTC)
    return [
        ExpiredTest(line.id, parse_time(line.test_until), line.where)
        for line in config.lines
        if line.test_until is not None and is_expired(line, moment)
    ]


def early_test_warning(line: Line, deployed_at: str | None, now: datetime) -> str | None:
    """A warning when ``line``'s test would start less than ``EARLY_TEST_HOURS`` after its
    failover was deployed (``deployed_at``: ISO time the ledger recorded; None: unknown).
    ``test.early`` silences it."""
    if not line.test or line.test_early or not deployed_at:
        return None
    deployed = datetime.fromisoformat(deployed_at.replace("Z", "+00:00"))
    ready = deployed + timedelta(hours=EARLY_TEST_HOURS)
    if now >= ready:
        return None
    hours = max(0, int((now - deployed).total_seconds() // 3600))
    return (
        f"{line.id}: test mode starts {hours} h after its failover was deployed "
        f"({shown(deployed)}); wait until {shown(ready)} (Dialpad runs failover tests 24 h after "
        "the failover number is set), or add early: true under test to test now"
    )


def early_test_warnings(
    config: LinesConfig, deployed: Mapping[str, str], now: datetime
) -> list[str]:
    """``early_test_warning`` for every line in test mode, given the ledger's deploy times."""
    out = []
    for line in config.lines:
        warning = early_test_warning(line, deployed.get(line.id), now)
        if warning:
            out.append(warning)
    return out
