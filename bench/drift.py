"""Figure P2: Twilio requests a drift check makes for N numbers, against the lower bound.

Counts, not timings. The account lives in the local Twilio double (contract-checked against
Twilio's OpenAPI files); ``failover drift`` runs in-process against it, exactly as a user
runs it, and the double records every request. The lower bound is ⌈N/1000⌉: Twilio serves at
most 1,000 numbers per list page (twilio.md §1.6). The lines file declares one of the numbers
and nothing is deployed, so the only other requests are the Studio flow list and the
Serverless service lookup (reported, not part of the ratio).

    python -m bench.run --only P2

Must not import: twilio (the CLI does the reading, as for a user).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from infra.cli.env import Env
from infra.cli.main import main
from infra.cli.status import ExitCode
from tests.twilio_double import TwilioDouble

SIZES = (2_500, 10_000)
LINES = """\
version: 1
account: {name: bench}
lines:
  - {id: first, type: department, number: "+14155000000"}
"""


def numbers(count: int) -> list[str]:
    """``count`` valid, distinct US numbers, the first one being the declared line's."""
    return [f"+1415{500_0000 + i:07d}" for i in range(count)]


def count_requests(size: int, workdir: Path) -> tuple[int, int]:
    """(number-list requests, all requests) of one ``failover drift`` over ``size`` numbers."""
    (workdir / "lines.yaml").write_text(LINES)
    with TwilioDouble() as double:
        double.seed_numbers(numbers(size), voice_url="https://voice.example.com/in")
        environ = {
            "TWILIO_ACCOUNT_SID": double.account_sid,
            "TWILIO_AUTH_TOKEN": double.auth_token,
            "TWILIO_API_BASE_URL": double.base_url,
        }
        env = Env(stdout=io.StringIO(), stderr=io.StringIO(), cwd=workdir, environ=environ)
        code = main(["drift", "--stack", "bench"], env)
        if code != ExitCode.CHANGES or double.violations:
            raise RuntimeError(f"drift run failed ({code!r}): {env.stderr.getvalue()}")
        listed = [
            r
            for r in double.requests
            if r.method == "GET" and r.path.endswith("/IncomingPhoneNumbers.json")
        ]
        return len(listed), len(double.requests)


def p2_drift(workdir: Path) -> list[str]:
    rows = []
    for size in SIZES:
        listed, total = count_requests(size, workdir)
        bound = math.ceil(size / 1000)
        rows.append(
            f"P2 drift-check requests for {size:,} numbers: {listed} number-list requests "
            f"(lower bound {bound}): {listed / bound:.2f}x (target 1.00x; {total} requests in all)"
        )
    return rows


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(p2_drift(Path(tmp))))
