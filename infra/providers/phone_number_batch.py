"""PhoneNumberBatch: many lines' numbers in one Pulumi resource, each managed like
``PhoneNumberFailover`` (adopted by E.164, fallback set, restored on removal, never released).

Why: a resource per line costs the Pulumi SDK about 5 ms and 90 KiB each while the program
builds (10,000 lines: 98 s, 1.8 GiB), and state grows with it. Lines are grouped into a fixed
number of batches by a hash of their id (``infra.naming.number_batch``), so adding or removing
a line never moves another one. ``pulumi preview --diff`` names the changed lines (keys of
``lines``); ``failover diff`` remains the per-line review.

Why ``bindings``: a line's ``fallback_url`` arrives with a placeholder host
(``https://{env:fwd-03}/f/sales.xml``, ``https://{flow:sales}``) and ``bindings`` maps each
placeholder to its live value (the environment's domain, the flow's webhook URL), one Output
each. So ``lines`` is known in every preview: a Python dynamic provider cannot return a
detailed diff (pulumi 3.272 ``DiffResult`` has no field for it; the servicer sends only
``changes``/``replaces``), so what a reviewer reads is the engine's comparison of old and new
inputs (unconfirmed, README "Verify on a live account first"), and before this a preview in
which any document environment changed showed every batch's ``lines`` as unknown. Now only
the binding of a changed environment shows as unknown. Placeholders are bound in
``diff``/``create``/``update``; state keeps the bound URLs in each line's outputs
(``applied_inputs``), so stacks from before ``bindings`` need no migration.

Contract (per line, exactly ``phone_number``'s functions: ``adopt_line``, ``update_line``,
``restore_line``, ``read_line``):
- ``diff()`` makes no API call: a batch changes when a line is added, removed, or its owned
  live values or inputs differ (``line_changes``); unchanged lines are not touched by the
  update (no request at all).
- ``update()`` restores removed lines, adopts added ones, updates changed ones, at most
  ``failover:concurrency`` requests in flight (the client's per-account gate; Twilio does
  not publish its REST concurrency; 429 answers are retried by the client,
  https://www.twilio.com/docs/api/errors/20429).
- Partial failure: a dynamic provider cannot save partial results, so when any line fails the
  lines this call adopted are restored again before the error is raised (their originals
  would otherwise be lost with the unsaved outputs); lines already in state are idempotent
  and are simply applied again by the next run. If that rollback fails too, the error says
  which numbers now point at this stack without a record of their original settings
  (README "Verify on a live account first").
- Renames (``renamed``: new id -> earlier ids, from ``renamed_from`` in lines.yaml): when
  ``new`` is added and an earlier id leaves this batch in the same update, the earlier id's
  record (the values found at adoption) moves to ``new`` and the number is updated in place:
  at most one write, never a restore, never a second adoption (issue 16, item 1). The
  program puts a renamed line in the batch of its oldest id, so both are in this batch.
- Restores write back only what is still this tool's (``restore_line``); fields changed
  since (in the console) are left and reported: as warnings on the provider's stderr
  (*unconfirmed* that the CLI shows them: a dynamic provider has no engine logger) and in the
  output ``left_alone`` (line id -> sentences) until the next update. Each adoption that
  replaces an existing fallback says so the same way (the value is kept in ``adopted``).
- ``delete()`` restores every line; never releases a number.
Outputs: ``lines`` (line id -> the ``PhoneNumberFailover`` outputs of that line).

Must not import: infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from infra.errors import ProviderError
from infra.providers._pickling import init_resource
from infra.providers.base import TwilioProvider, checked_inputs, has_unknowns, is_unknown
from infra.providers.phone_number import (
    PhoneNumberFailoverProvider,
    adopt_line,
    line_changes,
    read_line,
    restore_line,
    shown,
    update_line,
)
from infra.twilio.values import text

INPUTS = ("lines", "bindings", "renamed")
_PLACEHOLDER = re.compile(r"^https://\{((?:env|flow):[A-Za-z0-9._-]+)\}")


def env_binding(env: str) -> str:
    """The ``bindings`` key of a Serverless environment's domain."""
    return f"env:{env}"


def flow_binding(key: str) -> str:
    """The ``bindings`` key of a Studio flow's webhook URL."""
    return f"flow:{key}"


def placeholder_host(binding: str) -> str:
    """What stands for the bound value in a URL: ``https://{env:shared}/v/default.xml``."""
    return "{" + binding + "}"


def bind_url(url: Any, bindings: Mapping[str, Any]) -> Any:
    """``url`` with its placeholder host replaced by the bound value (a domain, or a whole
    webhook URL); URLs without one are returned as they are. KeyError naming the binding
    when it is missing or not known yet."""
    match = _PLACEHOLDER.match(url) if isinstance(url, str) else None
    if match is None:
        return url
    key = match.group(1)
    value = bindings.get(key)
    if value in (None, "") or is_unknown(value):
        raise KeyError(key)
    prefix = str(value) if key.startswith("flow:") else f"https://{value}"
    return prefix + url[match.end() :]


def _bound_lines(props: dict[str, Any], subject: str) -> dict[str, Any]:
    """``props["lines"]`` with every URL bound (``bindings``): the voice fallback, the SMS
    fallback and the primary (a queue test's is the line's queue entry) where set."""
    bindings = props.get("bindings") or {}
    lines: dict[str, Any] = {}
    for line, inputs in (props.get("lines") or {}).items():
        try:
            bound = {**inputs, "fallback_url": bind_url(inputs.get("fallback_url"), bindings)}
            for key in ("sms_fallback_url", "primary_url"):  # `sms`; `queue.test`'s primary
                if key in inputs:
                    bound[key] = bind_url(inputs[key], bindings)
            lines[line] = bound
        except KeyError as exc:
            raise ProviderError(subject, f"{line}: no value bound to {exc.args[0]}") from None
    return lines


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumberBatchArgs:
    lines: pulumi.Input[dict[str, Any]]
    """line id -> ``PhoneNumberFailoverArgs`` fields except ``line`` (plain values; a
    ``fallback_url`` may have a placeholder host bound by ``bindings``)."""
    bindings: pulumi.Input[dict[str, Any]] | None = None
    """placeholder (``env:shared``, ``flow:sales``) -> the domain or webhook URL it stands for."""
    renamed: dict[str, list[str]] | None = None
    """line id -> its earlier ids, oldest first (``renamed_from``); only renamed lines."""


def _line_inputs(line: str, props: dict[str, Any]) -> dict[str, Any]:
    return {**props, "line": line}


class PhoneNumberBatchProvider(TwilioProvider):
    """Adopts and manages a group of lines' numbers; never releases one."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = checked_inputs(news, INPUTS, required=("lines",))
        lines = inputs.get("lines")
        if isinstance(lines, dict):
            one = PhoneNumberFailoverProvider()
            checked: dict[str, Any] = {}
            for line, props in sorted(lines.items()):
                if not isinstance(props, dict):
                    failures.append(CheckFailure("lines", f"{line}: must be a mapping"))
                    continue
                result = one.check({}, _line_inputs(line, props))
                failures += [
                    CheckFailure("lines", f"{line}: {f.property}: {f.reason}")
                    for f in result.failures or []
                ]
                checked[line] = {k: v for k, v in result.inputs.items() if k != "line"}
            inputs["lines"] = checked
        elif lines is not None and not is_unknown(lines):
            failures.append(CheckFailure("lines", "must map line ids to number settings"))
        renamed = inputs.get("renamed")
        if renamed is not None and not (
            isinstance(renamed, dict)
            and all(
                isinstance(v, list) and all(isinstance(i, str) for i in v) for v in renamed.values()
            )
        ):
            failures.append(CheckFailure("renamed", "must map line ids to lists of earlier ids"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if has_unknowns(news.get("lines")):
            return DiffResult(changes=True)
        before = olds.get("lines") or {}
        try:
            after = _bound_lines(news, _batch_id(news))
        except ProviderError:  # a binding not known yet (preview): its lines may move
            return DiffResult(changes=True)
        if set(before) != set(after):
            return DiffResult(changes=True)
        return DiffResult(
            changes=any(
                text(after[line].get("phone_number")) != text(before[line].get("phone_number"))
                or line_changes(before[line], _line_inputs(line, after[line]))
                for line in after
            )
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._converge({}, props)
        return CreateResult(_batch_id(props), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        tw = self._twilio(id_)
        before = props.get("lines") or {}

        def one(line: str) -> dict[str, Any] | None:
            return read_line(tw, line, before[line]["sid"], before[line])

        results, errors = _bounded(sorted(before), one, tw.concurrency)
        _raise(id_, errors, rollback_failures={})
        lines = {line: outs for line, outs in results.items() if outs is not None}
        return ReadResult(id_, {**props, "lines": lines})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._converge(olds.get("lines") or {}, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Restore every line's number as found at adoption. Never releases a number."""
        tw = self._twilio(id_)
        before = props.get("lines") or {}

        def one(line: str) -> list[str]:
            return restore_line(tw, line, before[line]["sid"], before[line])

        results, errors = _bounded(sorted(before), one, tw.concurrency)
        _tell(results)
        _raise(id_, errors, rollback_failures={})

    def _converge(self, before: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        batch = _batch_id(news)
        after: dict[str, Any] = _bound_lines(news, batch)
        tw = self._twilio(batch)
        adopted_now: set[str] = set()
        moves = renames(before, after, news.get("renamed") or {})
        moved_away = set(moves.values())
        left: dict[str, list[str]] = {}  # restores that kept a value someone set since
        replaced: dict[str, list[str]] = {}  # adoptions that replaced an existing fallback

        def one(line: str) -> dict[str, Any] | None:
            if line in moved_away:  # renamed: its record moves to the new id, nothing restored
                return None
            old, new = before.get(line, before.get(moves.get(line, ""))), after.get(line)
            if new is None:  # removed from lines.yaml: restore
                assert old is not None
                left[line] = restore_line(tw, line, old["sid"], old)
                return None
            wanted = _line_inputs(line, new)
            if old is not None and text(old.get("phone_number")) != text(new["phone_number"]):
                # the line moved to another number
                left[line] = restore_line(tw, line, old["sid"], old)
                old = None
            if old is None:
                outs = adopt_line(tw, line, wanted)
                adopted_now.add(line)
                replaced[line] = _replaced(line, outs)
                return outs
            if not line_changes(old, wanted):
                return old
            return update_line(tw, line, old["sid"], old, wanted)

        results, errors = _bounded(sorted(set(before) | set(after)), one, tw.concurrency)
        rollback_failures: dict[str, str] = {}
        if errors:
            undo = sorted(line for line in adopted_now if line in results)

            def rollback(line: str) -> None:
                outs = results[line]
                assert outs is not None
                restore_line(tw, line, outs["sid"], outs)

            _, failed = _bounded(undo, rollback, tw.concurrency)
            rollback_failures = {line: str(exc) for line, exc in failed.items()}
        _tell(left)
        _raise(batch, errors, rollback_failures)
        _tell(replaced)
        lines = {line: outs for line, outs in results.items() if outs is not None}
        outs: dict[str, Any] = {"lines": dict(sorted(lines.items()))}
        said = {line: sentences for line, sentences in sorted(left.items()) if sentences}
        if said:
            outs["left_alone"] = said
        return outs


class PhoneNumberBatch(pulumi.dynamic.Resource, module="twilio", name="PhoneNumberBatch"):
    """A group of lines' numbers with their voice fallbacks (and declared primaries) managed."""

    lines: pulumi.Output[dict[str, Any]]

    def __init__(
        self, name: str, args: PhoneNumberBatchArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        init_resource(self, PhoneNumberBatchProvider(), name, args, ("lines",), opts)


def renames(
    before: dict[str, Any], after: dict[str, Any], renamed: dict[str, list[str]]
) -> dict[str, str]:
    """new id -> the earlier id whose record it takes over: ``new`` is added, the earlier id
    (the most recent of ``renamed[new]`` that this batch holds) leaves. Anything else named
    in ``renamed`` (an id never deployed, or still declared) is not a rename here."""
    moves: dict[str, str] = {}
    for new, earlier in sorted(renamed.items()):
        if new not in after or new in before:
            continue
        held = [old for old in earlier if old in before and old not in after]
        if held and held[-1] not in moves.values():
            moves[new] = held[-1]
    return moves


def _replaced(line: str, outs: dict[str, Any]) -> list[str]:
    """What adopting the line's number replaced (issue 16, item 8: adoption is never silent;
    ``failover drift`` lists the same before the first ``up``)."""
    found = (outs.get("adopted") or {}).get("voice_fallback_url")
    now = outs.get("voice_fallback_url")
    if not found or found == now:
        return []
    return [
        f"{line}: adopted {outs.get('phone_number')}: its existing fallback {shown(found)!r} "
        f"is replaced by {shown(now)!r}; removing the line restores it"
    ]


def _tell(said: dict[str, Any]) -> None:
    """Warn with each line's sentences: restores that kept a value someone set since,
    adoptions that replaced a fallback (stderr of the provider host: a dynamic provider has no
    engine logger; *unconfirmed* that the CLI shows it, README "Verify on a live account")."""
    for sentences in said.values():
        for sentence in sentences or ():
            pulumi.log.warn(sentence)


def _batch_id(props: dict[str, Any]) -> str:
    """A stable, readable id: the batch holds no Twilio object of its own."""
    lines = sorted(props.get("lines") or {})
    return f"numbers:{lines[0]}" if lines else "numbers:empty"


def _bounded(
    items: list[str], fn: Callable[[str], Any], limit: int
) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """``fn`` over ``items`` with at most ``limit`` in flight: results and errors by item."""
    results: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}
    if not items:
        return results, errors
    with ThreadPoolExecutor(max_workers=min(limit, len(items))) as pool:
        futures = {item: pool.submit(fn, item) for item in items}
        for item, future in futures.items():
            try:
                results[item] = future.result()
            except Exception as exc:  # noqa: BLE001 - every line is reported together below
                errors[item] = exc
    return results, errors


def _raise(batch: str, errors: dict[str, BaseException], rollback_failures: dict[str, str]) -> None:
    if not errors:
        return
    lines = [f"{line}: {exc}" for line, exc in sorted(errors.items())]
    if rollback_failures:
        lines.append(
            "could not undo the adoption of "
            + ", ".join(sorted(rollback_failures))
            + ": their numbers now point at this stack and their original voice settings are "
            "not recorded; check them in the Twilio console"
        )
    raise ProviderError(batch, f"{len(errors)} line(s) failed:\n  " + "\n  ".join(lines))
