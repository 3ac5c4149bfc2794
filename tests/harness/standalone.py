"""Run ``python -m tests.twilio_double`` in-process (its ``main`` on a thread) and read back
what it printed, for tests of the standalone double."""

from __future__ import annotations

import io
import re
import threading
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.twilio_double import __main__ as cli


@dataclass
class Standalone:
    banner: str
    """What the double printed once listening."""
    numbers: list[dict[str, Any]]
    """IncomingPhoneNumbers listed through its HTTP API with the printed credentials."""
    output: str
    """Everything it printed, including the closing summary (``violations: N``)."""


def run_standalone(seed: Path, *, wait_s: float = 10.0) -> Standalone:
    """Start the standalone double seeded from ``seed``, list its numbers, stop it."""
    stop, output = threading.Event(), io.StringIO()
    with redirect_stdout(output):
        runner = threading.Thread(target=cli.main, args=(["--seed", str(seed)], stop))
        runner.start()
        for _ in range(int(wait_s / 0.05)):
            if "Ctrl-C" in output.getvalue():
                break
            threading.Event().wait(0.05)
        banner = output.getvalue()
        base = re.search(r"listening on (\S+)", banner).group(1)  # type: ignore[union-attr]
        sid = re.search(r"account sid\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        token = re.search(r"auth token\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        listed = requests.get(
            f"{base}/api.twilio.com/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
            auth=(sid, token),
            timeout=5,
        ).json()
        stop.set()
        runner.join(timeout=5)
    return Standalone(banner, listed["incoming_phone_numbers"], output.getvalue())
