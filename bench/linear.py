"""Figure L: validation time against the size of bad input, as ratios measured in one run.

``tests/test_misuse.py`` checks the same inputs by counting the Python steps validation takes
(deterministic, so it cannot flake on a busy machine); this figure times them, which also sees
work done inside C code (a ``x in list`` in a loop, a backtracking regex) that step counts miss.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.errors import ConfigError
from infra.lines.load import load_bytes

HEAD = b"version: 1\naccount: {name: acme}\nlines:\n"

INVALID_LINES = {
    "unquoted number": b"  - {id: l%d, type: department, number: +1415555%04d}\n",
    "duplicate id": b'  - {id: main, name: n%d, type: department, number: "+1415555%04d"}\n',
    "typo'd keys": b'  - {id: l%d, tpye: department, number: "+1415555%04d", failover: {forwrd: x}}\n',
    "unusable url": b'  - {id: l%d, type: department, number: "+1415555%04d", primary: "https://u:p@localhost/ x"}\n',
    "forward to own number": b'  - {id: l%d, type: department, number: "+1415555%04d", failover: {forward: "+14155550000"}}\n',
}
"""One kind of mistake per file, repeated on every line: each must be reported once per line."""

SMALL, LARGE = 250, 2000
LINEAR_BOUND = 16
"""For 8x the input: linear growth measures about 8x, quadratic about 64x."""


def invalid_lines(template: bytes, count: int) -> bytes:
    return HEAD + b"".join(template % (i, i % 10_000) for i in range(count))


def long_url(length: int) -> bytes:
    url = "https://" + "a" * length + ".example/ x"  # the space makes it invalid at the end
    return HEAD + b'  - {id: main, type: main_line, number: "+14155550100", primary: "%s"}\n' % (
        url.encode()
    )


def rejected(raw: bytes) -> Callable[[], None]:
    def run() -> None:
        try:
            load_bytes(raw, "big.yaml")
        except ConfigError:
            return
        raise AssertionError("the input was accepted")

    return run


def _best_of(run: Callable[[], Any], repeat: int) -> float:
    """Least CPU time of ``repeat`` runs, with the collector off during each."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            run()
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


def ratio(small: Callable[[], Any], large: Callable[[], Any], rounds: int = 5) -> float:
    """time(large) / time(small), each the best of interleaved runs."""
    small()  # warm caches (schema compilation, phonenumbers metadata)
    best_small = best_large = float("inf")
    for _ in range(rounds):
        best_small = min(best_small, _best_of(small, 2))
        best_large = min(best_large, _best_of(large, 1))
    return best_large / max(best_small, 1e-9)


def linear(_workdir: Path) -> list[str]:
    rows = [
        f"## L: validation time for {LARGE // SMALL}x the bad input (linear ~8x, quadratic ~64x; bound < {LINEAR_BOUND}x)"
    ]
    for kind, template in INVALID_LINES.items():
        measured = ratio(
            rejected(invalid_lines(template, SMALL)), rejected(invalid_lines(template, LARGE))
        )
        verdict = "ok" if measured < LINEAR_BOUND else "MISSED"
        rows.append(f"L  {kind:<22} {SMALL} -> {LARGE} lines: {measured:5.1f}x  {verdict}")
    measured = ratio(rejected(long_url(5_000)), rejected(long_url(40_000)))
    verdict = "ok" if measured < LINEAR_BOUND else "MISSED"
    rows.append(
        f"L  URL length             5,000 -> 40,000 characters: {measured:5.1f}x  {verdict}"
    )
    return rows
