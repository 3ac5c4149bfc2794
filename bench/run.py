"""Benchmarks printed as ratios and counts measured in one run (no absolute timings asserted).

    python -m bench.run            # all figures; a few minutes on 2 cores
    python -m bench.run --only P1  # one figure

Machines here are noisy, so every figure compares two things measured back to back in the
same process, repeated, taking each side's best time.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

from bench.generate import generate
from infra.load import load_config


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
    validate = lambda: load_config(path)  # noqa: E731
    validate()  # warm caches (schema compile, phonenumbers metadata) as a long-running CLI would not
    baseline, ours = best_of(parse, 5), best_of(validate, 5)
    config, _ = load_config(path)
    return [
        f"P1 validate 10,000-line file ({len(config.lines)} lines) vs yaml.CSafeLoader parse: "
        f"{ours / baseline:.2f}x (target <= 2x; parse {baseline * 1000:.0f} ms, validate {ours * 1000:.0f} ms)",
        f"   memory peak of validate: {peak_mib(validate):.1f} MiB (parse alone: {peak_mib(parse):.1f} MiB)",
    ]


FIGURES: dict[str, Callable[[Path], list[str]]] = {"P1": p1_validate}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", choices=sorted(FIGURES), action="append", help="run only these figures"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or sorted(FIGURES):
            for row in FIGURES[name](Path(tmp)):
                print(row)


if __name__ == "__main__":
    main()
