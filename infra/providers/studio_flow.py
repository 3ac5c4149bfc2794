"""StudioFlow: one line's failover as a published Studio flow.

Why Studio: failovers that branch (forward, then voicemail; queue, then voicemail) need
logic a static TwiML document cannot hold. The definition is rendered elsewhere
(``infra.render.studio``) and arrives here as JSON text.

Contract:
- Every create and update first calls Studio's Validate endpoint (errors 81022 list the
  failing property paths), then writes with ``Status=published`` and a commit message naming
  the line and the content hash, e.g. ``sales: lines.yaml sha256:1a2b3c4d5e6f``.
- Create looks the flow up by ``friendly_name`` first, so an interrupted run never leaves a
  duplicate; keep friendly names unique in the account (e.g. ``acme-dev-failover-sales``).
  Studio has no lookup by name, so the lookup reads the account's flow listing shared by the
  whole run (``infra.twilio.listings``: one listing per run, not one per create, and how
  stale it may be).
- Comparison uses a canonical form (sorted keys, states sorted by name, UI ``offset``
  dropped): reordering or moving widgets in the console never causes an update.
- ``diff()`` makes no API call: the new definition's hash against ``applied_hash`` (what was
  sent), and live drift as ``definition_hash`` (live, from ``read()``) against
  ``published_hash`` (live right after our last write), so server-side normalisation never
  causes a permanent diff.
- ``delete()`` refuses while any number's voice URL or fallback still points at the flow.
- Outputs: ``sid``, ``friendly_name``, ``status``, ``revision``, ``webhook_url``,
  ``commit_message``, ``definition_hash``, ``published_hash``, ``applied_hash``, ``line``.

Must not import: infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

import hashlib
import json
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
from infra.providers.base import TwilioProvider, checked_inputs, is_unknown
from infra.twilio import listings
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.numbers import numbers_pointing_at
from infra.twilio.values import (
    canonical_definition,
    integral,
    same_url_target,
    text,
)

INPUTS = ("line", "friendly_name", "definition")
OUTPUTS = (
    "sid",
    "friendly_name",
    "status",
    "revision",
    "webhook_url",
    "commit_message",
    "definition_hash",
    "published_hash",
    "applied_hash",
    "line",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StudioFlowArgs:
    """Inputs of one line's flow."""

    line: pulumi.Input[str]
    """Line id from lines.yaml; in errors and the commit message."""
    friendly_name: pulumi.Input[str]
    """Unique in the account: the lookup key that prevents duplicates."""
    definition: pulumi.Input[str]
    """Flow definition as JSON text (``json.dumps(flow, sort_keys=True)``)."""


def definition_hash(definition: object) -> str:
    return hashlib.sha256(canonical_definition(definition).encode()).hexdigest()


class StudioFlowProvider(TwilioProvider):
    """Validates, publishes and reads back one Studio flow."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = checked_inputs(news, INPUTS, required=INPUTS)
        for key in ("line", "friendly_name"):
            value = inputs.get(key)
            if (
                value is not None
                and not is_unknown(value)
                and not (isinstance(value, str) and value.strip())
            ):
                failures.append(CheckFailure(key, "must be a non-empty string"))
        if len(str(inputs.get("friendly_name", ""))) > 64 and not is_unknown(
            inputs.get("friendly_name")
        ):
            failures.append(CheckFailure("friendly_name", "must be at most 64 characters"))
        definition = inputs.get("definition")
        if definition is not None and not is_unknown(definition):
            reason = _definition_problem(definition)
            if reason:
                failures.append(CheckFailure("definition", reason))
            elif not isinstance(definition, str):
                inputs["definition"] = json.dumps(integral(definition), sort_keys=True)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if any(is_unknown(v) for v in news.values()):
            return DiffResult(changes=True)
        changed = (
            definition_hash(news["definition"]) != olds.get("applied_hash")
            or olds.get("definition_hash") != olds.get("published_hash")
            or news["friendly_name"] != olds.get("friendly_name")
            or olds.get("status") != "published"
            or news["line"] != olds.get("line")
        )
        return DiffResult(changes=changed)

    def create(self, props: dict[str, Any]) -> CreateResult:
        line, name = props["line"], props["friendly_name"]
        tw = self._twilio(line)
        definition, digest = _validate(tw, props)
        flow = _existing(tw, line, name)
        if flow is None:
            try:
                with tw.errors(line, f"create Studio flow {name!r}"):
                    flow = tw.rest.studio.v2.flows.create(
                        friendly_name=name,
                        status="published",
                        definition=definition,
                        commit_message=_commit_message(line, digest),
                    )
            except ProviderError:
                listings.flows(tw).drop()  # it may exist after all: list again next time
                raise
            listings.flows(tw).remember(flow.sid, name)
        elif not _matches(flow, name, digest):  # adopted after an interrupted run
            flow = _write(tw, line, flow.sid, props, definition, digest)
        return CreateResult(flow.sid, _outputs(props, flow, digest))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        line = props.get("line") or id_
        tw = self._twilio(line)
        try:
            flow = _fetch(tw, line, id_)
        except NotFoundError:
            return ReadResult(None, {})
        outs = _live(flow)
        outs.update({k: props.get(k) for k in ("published_hash", "applied_hash", "line")})
        return ReadResult(flow.sid, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        line = news["line"]
        tw = self._twilio(line)
        definition, digest = _validate(tw, news)
        try:
            flow = _write(tw, line, id_, news, definition, digest)
        except NotFoundError:
            raise ProviderError(
                line,
                (
                    f"Studio flow {id_} no longer exists (deleted in the console?); run "
                    "`pulumi refresh` and then `pulumi up` to create it again"
                ),
            ) from None
        return UpdateResult(_outputs(news, flow, digest))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the flow, unless a number still sends calls to it."""
        line = props.get("line") or id_
        tw = self._twilio(line)
        webhook = text(props.get("webhook_url"))
        if webhook:
            users = numbers_pointing_at(tw, line, lambda url: same_url_target(url, webhook))
            if users:
                raise ProviderError(
                    line,
                    (
                        f"refusing to delete Studio flow {id_}: {', '.join(users)} still send "
                        "calls to it. Point those numbers elsewhere first (remove the flow and "
                        "its numbers together, so the numbers are restored before the flow goes)"
                    ),
                )
        try:
            with tw.errors(line, f"delete Studio flow {id_}"):
                tw.rest.studio.v2.flows(id_).delete()
        except NotFoundError:
            pass
        listings.flows(tw).remember(id_, None)


class StudioFlow(pulumi.dynamic.Resource, module="twilio", name="StudioFlow"):
    """A published Studio flow for one line; ``webhook_url`` is the number's fallback."""

    sid: pulumi.Output[str]
    webhook_url: pulumi.Output[str]
    revision: pulumi.Output[int]
    definition_hash: pulumi.Output[str]

    def __init__(
        self, name: str, args: StudioFlowArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        init_resource(self, StudioFlowProvider(), name, args, OUTPUTS, opts)


def _definition_problem(definition: object) -> str:
    try:
        flow = json.loads(definition) if isinstance(definition, str) else definition
    except json.JSONDecodeError as exc:
        return f"must be JSON text: {exc.msg} at line {exc.lineno} column {exc.colno}"
    if not isinstance(flow, dict):
        return "must be a JSON object"
    states = flow.get("states")
    if not isinstance(states, list) or not states or not all(isinstance(s, dict) for s in states):
        return "must have a non-empty list of states"
    if not flow.get("initial_state"):
        return "must name an initial_state"
    return ""


def _commit_message(line: str, digest: str) -> str:
    return f"{line}: lines.yaml sha256:{digest[:12]}"


def _validate(tw: Twilio, props: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Ask Studio to validate; return the definition to send and its canonical hash."""
    line, name = props["line"], props["friendly_name"]
    definition = integral(json.loads(props["definition"]))
    digest = definition_hash(definition)
    with tw.errors(line, f"validate Studio flow {name!r}"):
        result = tw.rest.studio.v2.flow_validate.update(
            friendly_name=name,
            status="published",
            definition=definition,
            commit_message=_commit_message(line, digest),
        )
    if result.valid is False:
        raise ProviderError(line, f"Studio rejected the definition of flow {name!r}", code=81022)
    return definition, digest


def _existing(tw: Twilio, line: str, name: str) -> Any | None:
    """The flow named ``name`` (fetched), or None. From the run's shared listing; an answer
    that leads to adopting a flow or refusing is checked first (the flow is fetched; two of
    one name are confirmed on a fresh listing), so only "none" can be stale."""
    for fresh in (False, True):
        sids = listings.flow_sids_named(tw, name, fresh=fresh)
        if len(sids) > 1 and not fresh:
            continue
        if len(sids) > 1:
            raise ProviderError(
                line,
                (
                    f"{len(sids)} Studio flows are named {name!r} ({', '.join(sids)}); delete "
                    "the extra ones in the Twilio console so the tool knows which one to manage"
                ),
            )
        if not sids:
            return None
        try:
            return _fetch(tw, line, sids[0])
        except NotFoundError:
            listings.flows(tw).remember(sids[0], None)  # deleted since it was listed
    return None


def _fetch(tw: Twilio, line: str, sid: str) -> Any:
    with tw.errors(line, f"fetch Studio flow {sid}"):
        return tw.rest.studio.v2.flows(sid).fetch()


def _write(
    tw: Twilio, line: str, sid: str, props: dict[str, Any], definition: dict[str, Any], digest: str
) -> Any:
    with tw.errors(line, f"publish Studio flow {props['friendly_name']!r}"):
        flow = tw.rest.studio.v2.flows(sid).update(
            status="published",
            friendly_name=props["friendly_name"],
            definition=definition,
            commit_message=_commit_message(line, digest),
        )
    listings.flows(tw).remember(flow.sid, props["friendly_name"])  # a rename, maybe
    return flow


def _matches(flow: Any, name: str, digest: str) -> bool:
    return (
        flow.friendly_name == name
        and flow.status == "published"
        and flow.definition is not None
        and definition_hash(flow.definition) == digest
    )


def _live(flow: Any) -> dict[str, Any]:
    return {
        "sid": flow.sid,
        "friendly_name": flow.friendly_name,
        "status": flow.status,
        "revision": flow.revision,
        "webhook_url": flow.webhook_url,
        "commit_message": flow.commit_message,
        "definition_hash": definition_hash(flow.definition) if flow.definition else "",
    }


def _outputs(props: dict[str, Any], flow: Any, digest: str) -> dict[str, Any]:
    outs = _live(flow)
    outs["published_hash"] = outs["definition_hash"]
    outs["applied_hash"] = digest
    outs["line"] = props["line"]
    return outs
