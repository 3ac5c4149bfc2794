"""Figures P3 (writes per change) and P4 (first-apply wall time against its bound).

Both run the real program (``infra.program.build``) through the real provider host against
the local Twilio double (``tests.harness.program_engine.ProgramEngine``), on a generated file, and
read what reached "Twilio" from the double's records.

P4's bound: with ``L`` seconds added to every request, an apply cannot be faster than the
requests it must make at the concurrency it allows itself. Documents come first (the numbers
point at them), then the numbers:

- Documents are one ``TwimlDocuments`` resource per Serverless environment (shared, queues and
  16 forwarding shards since issue 11), deployed by the provider host's 4 workers in
  parallel. Every request holds the process's gate for its API host
  (``infra.twilio.concurrency.account_gate``: at most ``c`` in flight per account and host),
  so the ``S`` requests to serverless.twilio.com and the ``U`` uploads to
  serverless-upload.twilio.com take at least ``max(⌈S/c⌉, ⌈U/c⌉)`` request times, plus the
  sleeps between one build's status polls.
- Numbers (look up, update: 2 requests each, in ``PhoneNumberBatch`` resources, up to ``c``
  at once) take at least ``max(2, ⌈R_numbers / c⌉)`` request times. New stacks deploy no
  ``StudioFlow`` (alerts left the caller's path), so there are no flow requests.

    bound = L · (max(⌈S/c⌉, ⌈U/c⌉) + max(2, ⌈R_numbers/c⌉)) + one build's polling sleeps

Every count is taken from the requests the double recorded in the measured run. The bound
ignores CPU time (program, engine, gRPC, the double's contract checks), which on 2 cores
is what the ratio's excess mostly is; the last row divides by a bound at the double's own
measured request time instead.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path

from bench.generate import generate
from infra.lines.load import load_bytes
from infra.model import LinesConfig
from infra.naming import forward_env
from infra.program import StackSettings
from infra.twilio import serverless
from tests.harness.program_engine import ProgramEngine
from tests.twilio_double import RecordedRequest, TwilioDouble

P3_LINES = 1_000
P4_LINES = 1_000
LATENCY_S = 0.1
SETTINGS = StackSettings(stack="bench")
LEGACY = "https://legacy-pbx.example.com/voice/"


def _config(text: str) -> LinesConfig:
    config, _ = load_bytes(text.encode(), "lines.yaml")
    return config


def _seed(double: TwilioDouble, config: LinesConfig) -> None:
    for line in config.lines:
        double.seed_number(line.number, voice_url=LEGACY + line.id)


def _block(text: str, line_id: str) -> tuple[int, int]:
    start = text.index(f"  - id: {line_id}\n")
    end = text.find("\n  - id: ", start + 1)
    return start, len(text) if end == -1 else end


def _edit(text: str, line_id: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` inside one line's block only (one YAML line changes)."""
    start, end = _block(text, line_id)
    block = text[start:end]
    if block.count(old) != 1:
        raise ValueError(f"{old!r} is not exactly once in {line_id}")
    return text[:start] + block.replace(old, new) + text[end:]


def _writes(double: TwilioDouble, before: Counter[str]) -> Counter[str]:
    return Counter(double.writes()) - before


def _show(writes: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(writes.items())) or "none"


def p3_writes(workdir: Path) -> list[str]:
    text = generate(P3_LINES)
    (workdir / "p3-lines.yaml").write_text(text)
    config = _config(text)
    rows = [f"P3 writes per change, {len(config.lines)}-line file ({P3_LINES:,} YAML lines):"]
    with TwilioDouble() as double:
        _seed(double, config)
        engine = ProgramEngine.for_double(double)
        state = engine.up(config, SETTINGS).state

        def apply(new_text: str) -> Counter[str]:
            nonlocal state
            before = Counter(double.writes())
            state = engine.up(_config(new_text), SETTINGS, state).state
            return _writes(double, before)

        writes = apply(text)
        rows.append(f"   no-change run: {sum(writes.values())} writes (target 0)")
        forward = config.lines[0].forward or ""
        edited = _edit(text, "line-0", f'forward: "{forward}"', 'forward: "+16285599999"')
        writes = apply(edited)
        rows.append(
            f"   one-line change, a forward number: {_show(writes)} "
            "(target AssetVersion.create 1, Build.create 1, Deployment.create 1: the line's "
            "forward document, in its shard's environment)"
        )
        text = edited
        edited = _edit(
            text, "line-2", "primary: https://voice.example.com/line-2",
            "primary: https://voice2.example.com/line-2",
        )  # fmt: skip
        writes = apply(edited)
        rows.append(
            f"   one-line change, a primary URL: {_show(writes)} "
            "(target IncomingPhoneNumber.update 1)"
        )
        text = edited
        primary = "    primary: https://voice.example.com/line-4\n"
        edited = _edit(text, "line-4", primary, primary + "    test: true\n")
        writes = apply(edited)
        rows.append(
            f"   one added line, test mode on: {_show(writes)} (target IncomingPhoneNumber.update 1)"
        )
        text = edited
        edited = text
        for line in config.lines[:50]:
            old = (
                f"Sorry, {line.id} is unavailable."
                if f"Sorry, {line.id} is" in edited
                else f"This is {line.id}. Please"
            )
            edited = _edit(edited, line.id, old, old.replace(line.id, f"{line.id} (new)"))
        writes = apply(edited)
        # An own greeting is a content-addressed voicemail document in the shared environment;
        # a forward line's forward document (in its shard) redirects to it, so it changes too.
        changed = config.lines[:50]
        forwards = [line for line in changed if line.forward]
        environments = 1 + len({forward_env(line.id) for line in forwards})
        rows.append(
            f"   50 greetings changed: {_show(writes)} (target AssetVersion.create "
            f"{len(changed) + len(forwards)}: 50 voicemail documents + {len(forwards)} forward "
            f"documents; Build.create and Deployment.create {environments}: the shared "
            "environment + the forward lines' shards; no number write)"
        )
        if double.violations:
            rows.append(f"   !! {len(double.violations)} contract violation(s) in the double")
    return rows


def _stage(host: str) -> str:
    if host.startswith(("serverless", "serverless-upload")):
        return "documents"
    return {"studio.twilio.com": "flows", "api.twilio.com": "numbers"}.get(host, "other")


def _in_flight(requests: list[RecordedRequest]) -> float:
    """Mean number of requests being answered at once over the span of ``requests``."""
    edges = sorted(
        [(r.received, 1) for r in requests]
        + [(r.received + (r.elapsed_s or 0.0), -1) for r in requests]
    )
    area, current, last = 0.0, 0, edges[0][0]
    for moment, delta in edges:
        area += current * (moment - last)
        current, last = current + delta, moment
    return area / max(edges[-1][0] - edges[0][0], 1e-9)


def p4_apply(workdir: Path) -> list[str]:
    text = generate(P4_LINES)
    (workdir / "p4-lines.yaml").write_text(text)
    config = _config(text)
    with TwilioDouble() as double:
        _seed(double, config)
        engine = ProgramEngine.for_double(double)
        double.faults.add(latency=LATENCY_S)
        start = time.monotonic()
        run = engine.up(config, SETTINGS)
        wall = time.monotonic() - start
        requests = double.requests
        violations = len(double.violations)
    by_stage: dict[str, list[RecordedRequest]] = {"documents": [], "flows": [], "numbers": []}
    for r in requests:
        by_stage[_stage(r.host)].append(r)
    docs, tail = by_stage["documents"], by_stage["flows"] + by_stage["numbers"]
    uploads = sum(1 for r in docs if r.host == "serverless-upload.twilio.com")
    api = len(docs) - uploads
    polls = sum(1 for r in docs if r.method == "GET" and r.path.endswith("/Status"))
    builds = sum(1 for r in docs if r.method == "POST" and r.path.endswith("/Builds"))
    c = serverless.UPLOAD_CONCURRENCY
    one_build_polls = math.ceil(polls / max(builds, 1))
    sleeps = sum(serverless.POLL_DELAYS_S[: max(one_build_polls - 1, 0)])
    docs_bound = max(math.ceil(api / c), math.ceil(uploads / c))
    tail_bound = max(2, math.ceil(len(tail) / c))
    bound = LATENCY_S * (docs_bound + tail_bound) + sleeps
    sequential = LATENCY_S * (len(docs) + len(tail)) + sleeps
    answer = sum(r.elapsed_s or 0.0 for r in requests) / len(requests)
    first = min(r.received for r in requests) - start
    docs_end = max(r.received + (r.elapsed_s or 0.0) for r in docs)
    tail_start = min(r.received for r in tail)
    tail_end = max(r.received + (r.elapsed_s or 0.0) for r in tail)
    flows = sum(1 for kind, urn in run.ops if kind == "create" and "StudioFlow" in urn)
    return [
        f"P4 first apply of a {len(config.lines)}-line file ({P4_LINES:,} YAML lines, "
        f"{len(run.ops)} resources) at {LATENCY_S * 1000:.0f} ms per request: "
        f"{wall:.1f} s vs bound {bound:.1f} s: {wall / bound:.2f}x (target <= 1.2x)",
        f"   bound = {LATENCY_S:g} s x [documents: max(ceil({api} API requests / {c}), "
        f"ceil({uploads} uploads / {c})) over {builds} environments' builds + numbers: "
        f"max(2, ceil({len(tail)} requests / {c}))] + {sleeps:.2f} s of one build's poll "
        f"sleeps = {LATENCY_S:g} s x ({docs_bound} + {tail_bound}) + {sleeps:.2f} s",
        f"   measured: {first:.2f} s before the first request (host start, program, Check); "
        f"documents {docs_end - start - first:.1f} s (bound {LATENCY_S * docs_bound + sleeps:.1f});"
        f" {flows} flows + {len(by_stage['numbers']) // 2} numbers {tail_end - tail_start:.1f} s"
        f" (bound {LATENCY_S * tail_bound:.1f}) with {_in_flight(tail):.2f} of "
        f"{c} requests in flight on average (documents: {_in_flight(docs):.2f})",
        f"   the double took {answer * 1000:.0f} ms per request on average ({LATENCY_S * 1000:.0f}"
        f" injected + its own contract checks, in this process); at that request time the "
        f"bound is {answer * (docs_bound + tail_bound) + sleeps:.1f} s: "
        f"{wall / (answer * (docs_bound + tail_bound) + sleeps):.2f}x",
        f"   (one request at a time, the requests alone would take {sequential:.1f} s; "
        f"{len(requests)} requests; contract violations: {violations})",
    ]
