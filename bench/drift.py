"""Figure P2: ``failover drift`` of a *deployed* N-line stack at 100 ms per request.

The account is made by the real program: ``infra.program.build`` applied through the real
provider host (``tests.harness.program_engine.ProgramEngine``) to a generated lines file, in
the local Twilio double (contract-checked against Twilio's OpenAPI files), with no latency.
Then every request gets ``LATENCY_S`` more and the real ``failover drift`` runs as a separate
process, as a user runs it; the double records every request.

The bound: drift's requests are independent fetches (one per flow or worker, for stacks that
have them) plus a few list pages; at most ``concurrency`` are in flight
(``infra.twilio.concurrency``), so they cannot take less than ``⌈requests ÷ concurrency⌉ ×
latency``. Since new stacks deploy no Studio flow, a deployed 500-line stack needs only a few
requests, and the process's own start and reading of the lines file dominate: the bound adds
the wall time of a whole ``failover validate`` process on the same file (best of 3, measured
just before), the least any command reading that file takes. Target: the whole drift process
within 2× that bound. Also
shown: no 429 from the account's concurrency limit, and the number listing against its own
lower bound ⌈N/1000⌉ (Twilio serves at most 1,000 numbers per page, twilio.md §1.6), also on
accounts of 2,500 and 10,000 numbers where nothing is deployed (in-process, counts only).

    python -m bench.run --only P2

Must not import: twilio (the CLI does the reading, as for a user).
"""

from __future__ import annotations

import io
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.generate import generate
from infra.cli.env import Env
from infra.cli.main import main
from infra.cli.status import ExitCode
from infra.lines.load import load_bytes
from infra.program import StackSettings
from infra.render.studio import flow_specs
from infra.stack import DEFAULT_CONCURRENCY
from tests.harness.program_engine import ProgramEngine
from tests.twilio_double import RecordedRequest, TwilioDouble

P2_YAML_LINES = 5_000
"""About 500 lines (10 YAML lines each). 0.2 stacks had a Studio flow per line (504
requests); today's have none, so drift reads the number listing and the stack's service."""
LATENCY_S = 0.1
LEGACY = "https://legacy-pbx.example.com/voice/"
ROOT = Path(__file__).resolve().parent.parent


NUMBER_SIZES = (2_500, 10_000)
ONE_LINE = """\
version: 1
account: {name: bench}
lines:
  - {id: first, type: department, number: "+14155000000"}
"""


def count_number_lists(size: int, workdir: Path) -> tuple[int, int]:
    """(number-list requests, all requests) of one in-process ``failover drift`` over an
    account of ``size`` numbers where nothing is deployed (one line declared)."""
    (workdir / "one-line.yaml").write_text(ONE_LINE)
    with TwilioDouble() as double:
        double.seed_numbers(
            [f"+1415{500_0000 + i:07d}" for i in range(size)], voice_url=LEGACY + "in"
        )
        environ = {
            "TWILIO_ACCOUNT_SID": double.account_sid,
            "TWILIO_AUTH_TOKEN": double.auth_token,
            "TWILIO_API_BASE_URL": double.base_url,
        }
        errors = io.StringIO()
        env = Env(stdout=io.StringIO(), stderr=errors, cwd=workdir, environ=environ)
        code = main(["drift", "one-line.yaml", "--stack", "bench"], env)
        if code != ExitCode.CHANGES or double.violations:
            raise RuntimeError(f"drift run failed ({code!r}): {errors.getvalue()}")
        listed = [
            r
            for r in double.requests
            if r.method == "GET" and r.path.endswith("/IncomingPhoneNumbers.json")
        ]
        return len(listed), len(double.requests)


def _cpu() -> tuple[float, float]:
    """(CPU seconds of finished child processes, of this process): the drift process and the
    double (which answers in this process's threads)."""
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return child.ru_utime + child.ru_stime, own.ru_utime + own.ru_stime


def _validate_wall(workdir: Path, environ: dict[str, str]) -> float:
    """Best of 3 wall times of a whole ``failover validate`` process on the same lines file."""
    argv = [sys.executable, "-m", "infra", "validate", "lines.yaml"]
    best = float("inf")
    for _ in range(3):
        start = time.monotonic()
        done = subprocess.run(argv, cwd=workdir, env=environ, capture_output=True, text=True)  # noqa: S603 - our own interpreter and module
        best = min(best, time.monotonic() - start)
        if done.returncode != ExitCode.OK:
            raise RuntimeError(f"validate exited {done.returncode}: {done.stderr}")
    return best


def _peak(requests: list[RecordedRequest]) -> int:
    edges = sorted(
        [(r.received + (r.elapsed_s or 0.0), -1) for r in requests]
        + [(r.received, 1) for r in requests]
    )
    now = peak = 0
    for _, delta in edges:
        now += delta
        peak = max(peak, now)
    return peak


def p2_drift(workdir: Path) -> list[str]:
    text = generate(P2_YAML_LINES)
    (workdir / "lines.yaml").write_text(text)
    config, _ = load_bytes(text.encode(), "lines.yaml")
    flows = len(flow_specs(config))
    with TwilioDouble() as double:
        for line in config.lines:
            double.seed_number(line.number, voice_url=LEGACY + line.id)
        start = time.monotonic()
        ProgramEngine.for_double(double).up(config, StackSettings(stack="bench"))
        deploy_s = time.monotonic() - start
        seen = len(double.requests)
        double.faults.add(latency=LATENCY_S)
        environ = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "FAILOVER_"))},
            "TWILIO_ACCOUNT_SID": double.account_sid,
            "TWILIO_AUTH_TOKEN": double.auth_token,
            "TWILIO_API_BASE_URL": double.base_url,
            "PYTHONPATH": str(ROOT),
        }
        validate_s = _validate_wall(workdir, environ)
        argv = [sys.executable, "-m", "infra", "drift", "--stack", "bench", "--format", "json"]
        start, cpu = time.monotonic(), _cpu()
        done = subprocess.run(argv, cwd=workdir, env=environ, capture_output=True, text=True)  # noqa: S603 - our own interpreter and module
        wall = time.monotonic() - start
        drift_cpu, double_cpu = (now - then for now, then in zip(_cpu(), cpu, strict=True))
        requests = double.requests[seen:]
        violations = len(double.violations)
    if done.returncode != ExitCode.OK:
        raise RuntimeError(f"drift of the deployed stack exited {done.returncode}: {done.stderr}")
    c = DEFAULT_CONCURRENCY
    request_bound = math.ceil(len(requests) / c) * LATENCY_S
    bound = validate_s + request_bound
    first = min(r.received for r in requests) - start
    span = max(r.received + (r.elapsed_s or 0.0) for r in requests) - min(
        r.received for r in requests
    )
    lists = sum(r.path.endswith("/IncomingPhoneNumbers.json") for r in requests)
    throttled = sum(r.status == 429 for r in requests)
    answer = sum(r.elapsed_s or 0.0 for r in requests) / len(requests)
    return [
        f"P2 drift of a deployed {len(config.lines):,}-line stack ({flows:,} flows, "
        f"{P2_YAML_LINES:,} YAML lines) at {LATENCY_S * 1000:.0f} ms per request, concurrency "
        f"{c}: {len(requests):,} requests in {wall:.2f} s vs a validate process {validate_s:.2f} s"
        f" + ceil({len(requests):,} / {c}) x {LATENCY_S:g} s = {bound:.2f} s: "
        f"{wall / bound:.2f}x (target <= 2x)",
        f"   measured: {first:.2f} s before the first request (interpreter, lines file); "
        f"requests {span:.2f} s ({span / request_bound:.2f}x their bound) with at most {_peak(requests)} "
        f"in flight; {throttled} answered 429; the double took {answer * 1000:.0f} ms per "
        f"request on average ({LATENCY_S * 1000:.0f} injected + its contract checks); CPU: "
        f"drift {drift_cpu:.1f} s, the double {double_cpu:.1f} s, on {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.1f})",
        f"   number listing: {lists} requests (lower bound ceil({len(config.lines):,} / 1000) = "
        f"{math.ceil(len(config.lines) / 1000)}); one at a time the requests alone would take "
        f"{len(requests) * LATENCY_S:.0f} s; deploying the stack took {deploy_s:.0f} s "
        f"(no latency, not measured); contract violations: {violations}",
        f"   at the double's measured request time ({answer * 1000:.0f} ms) the bound is "
        f"{validate_s + math.ceil(len(requests) / c) * answer:.2f} s: "
        f"{wall / (validate_s + math.ceil(len(requests) / c) * answer):.2f}x for the whole process",
        *_number_rows(workdir),
    ]


def _number_rows(workdir: Path) -> list[str]:
    rows = []
    for size in NUMBER_SIZES:
        listed, total = count_number_lists(size, workdir)
        bound = math.ceil(size / 1000)
        rows.append(
            f"   drift of an account of {size:,} numbers: {listed} number-list requests "
            f"(lower bound {bound}): {listed / bound:.2f}x (target 1.00x; {total} in all)"
        )
    return rows


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(p2_drift(Path(tmp))))
