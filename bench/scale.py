"""Scale figures at 10,000 lines (the scale issue): first apply against Twilio's lower bound,
state size, a no-change re-run, and the program's build time and memory.

    python -m bench.run --only P4s      # first apply of N lines through the engine model
    python -m bench.run --only P5       # program build: this version vs 0.2.0, same file

P4s runs the real program through the real provider host against the Twilio double (which
enforces Twilio's Serverless and Studio limits) with ``LATENCY_S`` added to every request.
Its bound is Twilio's lower bound for the job, derived from the file and printed:

    R_min = 2·D (an Asset and its version per document) + 2·F (Functions) + 1 (service)
          + E (environments) + 3·E (build, one status poll, deployment)
          + ceil(N_account / 1000) (one listing of the account's numbers) + N (number writes)
          + T (TaskRouter: workspace, 2 activities, a queue per queued line, workflow, workers)
    bound = ceil(R_min / C) · L,  C = requests in flight: the client's per-account gate
            (``failover:concurrency``, default 10), which every request of a run goes through

so the bound assumes perfect parallelism and no dependency between resources; the measured
time also holds the program, the engine and the double's contract checks (CPU on this machine).
P5 measures whole processes (fresh interpreter, peak RSS) building the program under Pulumi's
mocks, this version and 0.2.0 (from the git tag) on the same file, and this version at N lines.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.organisation import organisation
from infra.lines.load import load_bytes
from infra.model import LinesConfig, Severity, TargetKind
from infra.naming import FORWARD_SHARDS
from infra.program import StackSettings
from infra.render.functions import render_functions
from infra.routing import documents_per_environment
from infra.twilio.concurrency import DEFAULT_CONCURRENCY

ROOT = Path(__file__).resolve().parent.parent
LATENCY_S = 0.1
HOST_WORKERS = 4
PER_CALL = 10
SCALE_LINES = int(os.environ.get("BENCH_SCALE_LINES", "10000"))
RATIO_LINES = int(os.environ.get("BENCH_RATIO_LINES", "2000"))
LEGACY = "https://legacy-pbx.example.com/voice/"


def _config(text: str) -> LinesConfig:
    config, _ = load_bytes(text.encode(), "lines.yaml")
    return config


def lower_bound(config: LinesConfig, account_numbers: int) -> tuple[int, str]:
    """Twilio's minimum requests for a first apply of ``config``, and its derivation."""
    per_env = documents_per_environment(config)
    docs, envs = sum(per_env.values()), len(per_env)
    functions = len(render_functions(config))
    queued = sum(
        1
        for line in config.lines
        if any(t.kind is TargetKind.QUEUE for t in line.failover_chain(Severity.SEVERE))
    )
    taskrouter = (4 + queued + len(config.agents)) if queued else 0
    lines = len(config.lines)
    listing = math.ceil(account_numbers / 1000)
    total = 2 * docs + 2 * functions + 1 + envs + 3 * envs + listing + lines + taskrouter
    how = (
        f"2x{docs} documents + 2x{functions} Functions + 1 service + {envs} environments + "
        f"3x{envs} builds/polls/deployments + {listing} number listings + {lines} number writes "
        f"+ {taskrouter} TaskRouter = {total}"
    )
    return total, how


def p4_scale(workdir: Path) -> list[str]:
    os.environ.setdefault("FAILOVER_HOST_CALL_TIMEOUT_S", "3600")  # before the host starts
    from tests.harness.program_engine import ProgramEngine
    from tests.twilio_double import TwilioDouble

    text = organisation(SCALE_LINES)
    (workdir / "p4s-lines.yaml").write_text(text)
    config = _config(text)
    settings = StackSettings(stack="bench", severity=Severity.MINOR)
    with TwilioDouble() as double:
        for line in config.lines:
            double.seed_number(line.number, voice_url=LEGACY + line.id)
        engine = ProgramEngine.for_double(double)
        double.faults.add(latency=LATENCY_S)
        start = time.monotonic()
        run = engine.up(config, settings)
        wall = time.monotonic() - start
        requests = len(double.requests)
        by_host = Counter(r.host.split(".")[0] for r in double.requests)
        violations = len(double.violations)
        before = Counter(double.writes())
        again = engine.up(config, settings, run.state)
        rerun_writes = sum((Counter(double.writes()) - before).values())
        state_bytes = len(json.dumps(again.state).encode())
        resources = len(again.state)
    r_min, how = lower_bound(config, len(config.lines))
    concurrency = DEFAULT_CONCURRENCY
    bound = math.ceil(r_min / concurrency) * LATENCY_S
    envs = documents_per_environment(config)
    return [
        f"P4s first apply of a {len(config.lines):,}-line organisation ({resources} resources, "
        f"{len(envs)} Serverless environments, largest {max(envs.values())} documents; "
        f"{FORWARD_SHARDS} forwarding shards) at {LATENCY_S * 1000:.0f} ms per request: "
        f"{wall:.0f} s vs Twilio's lower bound {bound:.0f} s: {wall / bound:.2f}x (target <= 3x)",
        f"   lower bound = ceil(R_min / {concurrency} in flight) x {LATENCY_S:g} s; R_min = {how}",
        f"   made {requests:,} requests ({requests / r_min:.2f}x R_min): "
        + ", ".join(f"{host} {n:,}" for host, n in by_host.most_common())
        + f"; contract violations: {violations}",
        f"   no-change re-run: {rerun_writes} writes (target 0); engine state "
        f"{state_bytes / 1e6:.1f} MB (target < 20 MB)",
    ]


_BUILD = """
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
import pulumi
from infra.lines.load import load_config
from tests.test_program import FakeOutputs, run_program
config, _ = load_config(Path(sys.argv[1]))
pulumi.runtime.set_mocks(FakeOutputs(), project='failover', stack='bench', preview=False)
outputs = run_program(config)
status = Path('/proc/self/status').read_text()
peak = next(int(l.split()[1]) for l in status.splitlines() if l.startswith('VmHWM')) / 1024
print(json.dumps({"seconds": time.perf_counter() - start, "peak": peak,
                  "lines": len(outputs["lines"])}))
"""


def _build(cwd: Path, path: Path) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 - our own script, run with this interpreter
        [sys.executable, "-c", _BUILD, str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(cwd)},
    )
    if done.returncode != 0:
        raise RuntimeError(f"program build failed in {cwd}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _release_commit(tag: str) -> str:
    """The release's commit: its tag, or in a clone without tags the commit whose message
    starts "Release 0.2.0:" (how this project commits a release: CHANGELOG's section and the version
    in one commit)."""
    git = ["git", "-C", str(ROOT)]
    found = subprocess.run(  # noqa: S603 - git, fixed arguments
        [*git, "rev-parse", "--verify", "-q", f"{tag}^{{commit}}"], capture_output=True, text=True
    )
    if found.returncode == 0:
        return found.stdout.strip()
    message = f"^Release {tag.removeprefix('v')}:"
    logged = subprocess.run(  # noqa: S603 - git, fixed arguments
        [*git, "log", "--all", "-1", "--format=%H", f"--grep={message}"],
        capture_output=True,
        text=True,
        check=True,
    )
    if not logged.stdout.strip():
        raise OSError(f"no tag {tag} and no commit 'Release {tag.removeprefix('v')}: …'")
    return logged.stdout.strip()


def _release(tag: str, into: Path) -> Path:
    archive = subprocess.run(  # noqa: S603 - git, fixed arguments
        ["git", "archive", "--format=tar", _release_commit(tag)],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    tar_path = into / f"{tag}.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into / tag, filter="data")
    return into / tag


def p5_build(workdir: Path) -> list[str]:
    same = workdir / f"p5-{RATIO_LINES}.yaml"
    same.write_text(organisation(RATIO_LINES))
    big = workdir / f"p5-{SCALE_LINES}.yaml"
    big.write_text(organisation(SCALE_LINES))
    rows = ["P5 program build under Pulumi's mocks, whole process (peak RSS = VmHWM):"]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            old_root = _release("v0.2.0", Path(tmp))
        except (subprocess.CalledProcessError, OSError) as exc:
            old_root = None
            rows.append(f"   0.2.0 not available ({exc}); no ratio")
        now = _build(ROOT, same)
        if old_root is not None:
            old = _build(old_root, same)
            rows.append(
                f"   {RATIO_LINES:,} lines: this version {now['seconds']:.1f} s / "
                f"{now['peak']:.0f} MiB, 0.2.0 {old['seconds']:.1f} s / {old['peak']:.0f} MiB: "
                f"{now['seconds'] / old['seconds']:.2f}x time, {now['peak'] / old['peak']:.2f}x "
                "memory (target <= 0.1x)"
            )
    scaled = _build(ROOT, big)
    rows.append(
        f"   {SCALE_LINES:,} lines: {scaled['seconds']:.1f} s, {scaled['peak']:.0f} MiB peak "
        "(the issue measured 98 s and 1,846 MiB for 0.2 at 10,000 lines; targets 10 s, 200 MiB)"
    )
    return rows
