"""Benchmarks printed as ratios and counts measured in one run (no absolute timings asserted).

    python -m bench.run            # all figures; a few minutes on 2 cores
    python -m bench.run --only P1  # one figure (P1, P1w, P2, P3, P4, P4s, P5, L, M)

Machines here are noisy, so every figure compares two things measured back to back in the
same process (P1: best of 5 interleaved runs of each side), or counts requests and writes:

- P1 ``validate`` of a generated 10,000-line file vs ``yaml.CSafeLoader`` alone (<= 2x), in
  process (metadata warm, but no number's answers kept from the run before); P1w the same
  as users run it: whole processes, at 1,000 and 10,000 lines, with bytecode caches (and
  without, when the shell disables them);
- P2 wall time of ``failover drift`` (a whole process) over a deployed 500-line stack with
  100 ms per request vs a whole ``failover validate`` process on the same file plus
  ceil(requests / concurrency) x 100 ms (<= 2x), and its number listing vs the lower bound
  ceil(N/1000) (``bench/drift.py``);
- P3 writes on a no-change run (0), one-line changes (a forward number: its forward
  document, 1 build and 1 deployment; a primary URL or test mode: 1 number update) and 50
  changed greetings (their voicemail and forward documents; one build per environment
  touched; no number write);
- P4 wall time of a first apply of a 1,000-line file with 100 ms per request vs the bound
  the dependency chain and the provider host's 4 concurrent calls set (<= 1.2x), with the
  bound's derivation (``bench/apply.py``);
- P4s a first apply of a realistic 10,000-line organisation (``bench/organisation.py``) at
  100 ms per request vs Twilio's lower bound for the job (<= 3x), the engine state's size
  (< 20 MB) and a no-change re-run's writes (0) (``bench/scale.py``);
- P5 the program's build under mocks, whole process: this version vs 0.2.0 on the same file
  (<= 0.1x time and memory) and this version at 10,000 lines;
- L  validation time for 8x the bad input (each kind of mistake on every line) and for an
  8x longer URL (< 16x; quadratic work would measure about 64x) (``bench/linear.py``);
- M  peak memory of ``validate`` and of the program for a 10,000-line organisation.
P3 and P4 run the real program through the real provider host against the Twilio double.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

from bench.generate import generate
from infra.lines import checks, numbers
from infra.lines.load import load_config


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_mib(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / (1024 * 1024)


def p1_validate(workdir: Path) -> list[str]:
    path = workdir / "lines-10k.yaml"
    path.write_text(generate(10_000))
    text = path.read_text()
    parse = lambda: yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: E731 - the baseline, verbatim

    def validate() -> object:
        for module in (numbers, checks):  # per-number answers: each run reads its numbers afresh
            for answers in vars(module).values():
                getattr(answers, "cache_clear", lambda: None)()
        return load_config(path)

    validate()  # warm caches (schema compile, phonenumbers metadata) as a long-running CLI would not
    baseline = ours = float("inf")
    for _ in range(5):  # interleaved, so a busy spell on the shared machine hits both sides
        baseline, ours = min(baseline, best_of(parse, 1)), min(ours, best_of(validate, 1))
    config, _ = load_config(path)
    return [
        f"P1 validate 10,000-line file ({len(config.lines)} lines) vs yaml.CSafeLoader parse: "
        f"{ours / baseline:.2f}x (target <= 2x; parse {baseline * 1000:.0f} ms, validate {ours * 1000:.0f} ms)",
        f"   memory peak of validate: {peak_mib(validate):.1f} MiB (parse alone: {peak_mib(parse):.1f} MiB)",
    ]


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)  # noqa: S603 - our own interpreter and module
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _environments(workdir: Path) -> list[tuple[str, dict[str, str]]]:
    """How the processes run: with bytecode caches, as after `pip install` or any first run
    (kept in a temporary PYTHONPYCACHEPREFIX, so nothing is written into the checkout), and,
    when this shell disables them, also as it runs them."""
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    out = [("bytecode cached", cached)]
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        out.append(("no bytecode cache (PYTHONDONTWRITEBYTECODE)", dict(os.environ)))
    return out


P1W_PAIRS = 9


def p1_process(workdir: Path) -> list[str]:
    """P1 as users run it: a whole `failover validate` process against a whole process that
    only parses the same file with CSafeLoader (interpreter start-up on both sides), in
    interleaved pairs (each side first in turn) so machine drift cancels. The figure is the
    median of the pairs' wall-time ratios; the CPU-time ratio and the ratio of the best wall
    times of each side are shown beside it, as the noise of a shared machine moves them."""
    python = sys.executable
    rows = []
    for label, env in _environments(workdir):
        for size in (1_000, 10_000):
            path = workdir / f"lines-{size}.yaml"
            path.write_text(generate(size))
            ours = [python, "-m", "infra", "validate", str(path)]
            parse = [python, "-c", _PARSE_ONLY, str(path)]
            _run(ours, env), _run(parse, env)  # warm the page cache and bytecode
            pairs = []
            for index in range(P1W_PAIRS):
                if index % 2:
                    theirs, mine = _run(parse, env), _run(ours, env)
                else:
                    mine, theirs = _run(ours, env), _run(parse, env)
                pairs.append((mine, theirs))
            wall = sorted(a[0] / b[0] for a, b in pairs)
            cpu = statistics.median(a[1] / b[1] for a, b in pairs)
            best_ours, best_parse = min(a[0] for a, _ in pairs), min(b[0] for _, b in pairs)
            rows.append(
                f"P1w whole process, {size:,} lines, {label}: validate vs CSafeLoader parse "
                f"{statistics.median(wall):.2f}x (target <= 2x; pairs {wall[0]:.2f}-{wall[-1]:.2f}, "
                f"CPU {cpu:.2f}x, best of each {best_ours / best_parse:.2f}x: "
                f"{best_ours * 1000:.0f} ms vs {best_parse * 1000:.0f} ms)"
            )
    return rows


_PARSE_ONLY = "import sys, yaml; yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)"


def p2_drift(workdir: Path) -> list[str]:
    try:
        from bench.drift import p2_drift as figure
    except ImportError as exc:  # written separately; the other figures do not need it
        return [f"P2 skipped: bench/drift.py is not available ({exc})"]
    return figure(workdir)


def p3_writes(workdir: Path) -> list[str]:
    from bench.apply import p3_writes as figure

    return figure(workdir)


def p4_apply(workdir: Path) -> list[str]:
    from bench.apply import p4_apply as figure

    return figure(workdir)


def p4_scale(workdir: Path) -> list[str]:
    from bench.scale import p4_scale as figure

    return figure(workdir)


def p5_build(workdir: Path) -> list[str]:
    from bench.scale import p5_build as figure

    return figure(workdir)


def linear(workdir: Path) -> list[str]:
    from bench.linear import linear as figure

    return figure(workdir)


def memory(workdir: Path) -> list[str]:
    from bench.memory import memory as figure

    return figure(workdir)


FIGURES: dict[str, Callable[[Path], list[str]]] = {
    "P1": p1_validate,
    "P1w": p1_process,
    "P2": p2_drift,
    "P3": p3_writes,
    "P4": p4_apply,
    "P4s": p4_scale,
    "P5": p5_build,
    "L": linear,
    "M": memory,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", choices=sorted(FIGURES), action="append", help="run only these figures"
    )
    args = parser.parse_args()
    print(f"# {platform.node()}: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}", flush=True)  # fmt: skip
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or list(FIGURES):
            for row in FIGURES[name](Path(tmp)):
                print(row, flush=True)
    print(f"# done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
