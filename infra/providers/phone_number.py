"""PhoneNumberFailover: a line's Twilio number, adopted, with its voice fallback managed.

Why: the fallback URL is what sends calls to the failover when the owner's primary server
fails. The number itself belongs to the account, not to this tool: it is adopted by E.164
(never bought) and **never released** (no DELETE on IncomingPhoneNumbers exists in this
package). Deleting the resource restores the voice settings found at adoption.

Contract:
- Owns ``VoiceFallbackUrl``/``VoiceFallbackMethod``; also ``VoiceUrl``/``VoiceMethod`` while
  the line declares a primary or is in test mode (test mode points the primary at the
  failover entry; when it ends the declared primary, or the adopted value, comes back).
  With ``sms_fallback_url`` (the line's ``sms``) it also owns ``SmsFallbackUrl``/
  ``SmsFallbackMethod`` (restored like the voice fallback when ``sms`` goes); without it the
  number's SMS fields are neither read into state nor written. Every other field is left alone.
- Refuses an SMS fallback on a number without an SMS URL (21406) or with an SMS application.
- Refuses numbers bound to a TwiML Application or SIP Trunk (Twilio ignores a number-level
  fallback for them) and numbers without a voice URL when no primary is declared (21405).
- ``read()`` returns live values, so a refresh shows console edits; ``diff()`` compares the
  desired owned fields with those live outputs and makes no API call.
- Outputs: live ``sid``, ``phone_number``, ``friendly_name``, ``voice_url``,
  ``voice_method``, ``voice_fallback_url``, ``voice_fallback_method``,
  ``voice_application_sid``, ``trunk_sid`` (plus ``sms_url``, ``sms_application_sid``,
  ``sms_fallback_url``, ``sms_fallback_method`` for lines with ``sms``); ``adopted`` (owned fields as found when this
  tool started managing them) and ``applied_inputs`` (the inputs last applied).

Example (what ``infra.program`` passes)::

    PhoneNumberFailover("sales", PhoneNumberFailoverArgs(
        line="sales", phone_number="+14155550101",
        fallback_url=flow.webhook_url, primary_url="https://voice.acme.example/sales"))

Must not import: infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
from infra.providers.number_fields import (
    FALLBACK,
    PRIMARY,
    SMS_FALLBACK,
    _desired,
    _norm,
    _not_ours,
    _owned,
    _restore_primary,
    _restore_sms,
    _same_value,
    shown,
)
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.numbers import (
    fetch_number,
    fetch_number_for_change,
    find_number,
    read_number,
    refuse_sms_unusable,
    refuse_unusable,
    update_number,
)
from infra.twilio.values import text

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
METHODS = ("GET", "POST")
SMS_LIVE = ("sms_url", "sms_application_sid", *SMS_FALLBACK)
"""Live SMS outputs, kept only for lines that manage (or managed) their SMS fallback, so state
of lines without ``sms`` is unchanged."""
LIVE = (
    "sid",
    "phone_number",
    "friendly_name",
    *PRIMARY,
    *FALLBACK,
    "voice_application_sid",
    "trunk_sid",
)
INPUTS = (
    "line",
    "phone_number",
    "fallback_url",
    "fallback_method",
    "primary_url",
    "primary_method",
    "test_mode",
    "sms_fallback_url",
    "sms_fallback_method",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumberFailoverArgs:
    """Inputs of one line's number; plain values (or Outputs of them)."""

    line: pulumi.Input[str]
    """Line id from lines.yaml; names the line in every error."""
    phone_number: pulumi.Input[str]
    """E.164 number already in the account."""
    fallback_url: pulumi.Input[str]
    """Failover entry: a Studio flow webhook URL or a TwiML document URL."""
    fallback_method: pulumi.Input[str] = "POST"
    """GET for static TwiML assets, POST for Studio flows."""
    primary_url: pulumi.Input[str] | None = None
    """Declared primary; when set the tool also manages VoiceUrl."""
    primary_method: pulumi.Input[str] = "POST"
    test_mode: pulumi.Input[bool] = False
    """Point the primary at the failover entry until switched off."""
    sms_fallback_url: pulumi.Input[str] | None = None
    """SMS fallback (the line's ``sms``): a reply document URL or a secondary messaging server;
    None leaves the number's SMS settings alone."""
    sms_fallback_method: pulumi.Input[str] | None = None
    """GET for reply documents; ``sms.method`` (default POST) for a server."""


class PhoneNumberFailoverProvider(TwilioProvider):
    """Adopts a number by E.164 and manages its voice fallback; never releases it."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = checked_inputs(
            news,
            INPUTS,
            required=("line", "phone_number", "fallback_url"),
            defaults={"fallback_method": "POST", "primary_method": "POST", "test_mode": False},
        )
        for key, value in inputs.items():
            if is_unknown(value):
                continue
            if key in ("fallback_method", "primary_method", "sms_fallback_method"):
                inputs[key] = str(value).upper()
                if inputs[key] not in METHODS:
                    failures.append(CheckFailure(key, f"must be GET or POST, got {value!r}"))
            elif key == "phone_number" and not E164.match(str(value)):
                failures.append(CheckFailure(key, f"must be E.164 (+ and digits), got {value!r}"))
            elif key in ("fallback_url", "primary_url", "sms_fallback_url") and not _is_url(value):
                failures.append(
                    CheckFailure(key, f"must be an absolute http(s) URL, got {value!r}")
                )
            elif key == "test_mode" and not isinstance(value, bool):
                failures.append(CheckFailure(key, f"must be true or false, got {value!r}"))
            elif key == "line" and not (isinstance(value, str) and value):
                failures.append(CheckFailure(key, "must be a non-empty string"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if text(news.get("phone_number")) != text(olds.get("phone_number")):
            return DiffResult(changes=True, replaces=["phone_number"])
        return DiffResult(changes=line_changes(olds, news))

    def create(self, props: dict[str, Any]) -> CreateResult:
        line = props["line"]
        outs = adopt_line(self._twilio(line), line, props)
        return CreateResult(outs["sid"], {**outs, "line": line})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        line = props.get("line") or (props.get("applied_inputs") or {}).get("line") or id_
        outs = read_line(self._twilio(line), line, id_, props)
        if outs is None:
            return ReadResult(None, {})
        return ReadResult(outs["sid"], {**outs, "line": line})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        line = news["line"]
        outs = update_line(self._twilio(line), line, id_, olds, news)
        return UpdateResult({**outs, "line": line})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Restore the owned voice fields found at adoption. Never releases the number."""
        line = (props.get("applied_inputs") or {}).get("line") or id_
        for sentence in restore_line(self._twilio(line), line, id_, props):
            pulumi.log.warn(sentence)  # provider stderr (no engine logger in a dynamic provider)


class PhoneNumberFailover(pulumi.dynamic.Resource, module="twilio", name="PhoneNumberFailover"):
    """A line's number with its voice fallback (and declared primary) managed."""

    sid: pulumi.Output[str]
    phone_number: pulumi.Output[str]
    voice_url: pulumi.Output[str]
    voice_fallback_url: pulumi.Output[str]
    adopted: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: PhoneNumberFailoverArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        init_resource(
            self,
            PhoneNumberFailoverProvider(),
            name,
            args,
            (*LIVE, "adopted", "applied_inputs"),
            opts,
        )


# ---- one line's number: shared with the batched provider (``phone_number_batch``) --------


def line_changes(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """True when the line's owned live values (``olds``: its outputs) differ from what
    ``news`` wants, or its inputs changed (so restores happen and ``applied_inputs`` stays
    true). No API call."""
    if any(is_unknown(v) for v in news.values()):
        return True
    desired = _desired(news)
    drifted = any(_norm(k, desired[k]) != _norm(k, olds.get(k)) for k in desired)
    return drifted or _applied(news) != (olds.get("applied_inputs") or {})


def adopt_line(tw: Twilio, line: str, props: dict[str, Any]) -> dict[str, Any]:
    """Find the number by E.164, remember its owned fields, apply ours; the line's outputs."""
    e164 = props["phone_number"]
    number = find_number(tw, line, e164)
    if number is None:
        raise ProviderError(
            line,
            (
                f"number {e164} of line {line!r} is not in this Twilio account. This tool "
                "adopts numbers and never buys them: buy or port the number first, or fix "
                "the line's number in lines.yaml"
            ),
        )
    desired = _desired(props)
    refuse_unusable(line, number, desired.get(PRIMARY[0], text(number.voice_url)))
    if SMS_FALLBACK[0] in desired:
        refuse_sms_unusable(line, number)
    adopted = {k: text(getattr(number, k)) for k in _owned(desired)}
    number = _apply(tw, line, number, desired)
    return _outputs(props, number, adopted)


def update_line(
    tw: Twilio, line: str, sid: str, olds: dict[str, Any], news: dict[str, Any]
) -> dict[str, Any]:
    """Apply ``news`` to the adopted number ``sid``; the line's new outputs."""
    number = fetch_number_for_change(tw, line, sid)
    desired = _desired(news)
    adopted = dict(olds.get("adopted") or {})
    if _manages_primary(news):
        for key in PRIMARY:  # started managing the primary now: remember what was there
            adopted.setdefault(key, text(getattr(number, key)))
    elif PRIMARY[0] in adopted:  # stopped managing it (test mode ended, no primary)
        restored = _restore_primary(line, olds.get("applied_inputs") or {}, adopted)
        desired.update(restored)
        for key in PRIMARY:
            adopted.pop(key, None)
    if SMS_FALLBACK[0] in desired:  # managing the SMS fallback (perhaps from now on)
        refuse_sms_unusable(line, number)
        for key in SMS_FALLBACK:
            adopted.setdefault(key, text(getattr(number, key)))
    elif SMS_FALLBACK[0] in adopted:  # `sms` removed from the line: put back what was there
        desired.update(_restore_sms(olds.get("applied_inputs") or {}, adopted))
        for key in SMS_FALLBACK:
            adopted.pop(key, None)
    refuse_unusable(line, number, desired.get(PRIMARY[0], text(number.voice_url)))
    number = _apply(tw, line, number, desired)
    return _outputs(news, number, adopted)


def restore_line(tw: Twilio, line: str, sid: str, olds: dict[str, Any]) -> list[str]:
    """Put back the owned voice fields found at adoption, but only where the live value is
    still the one this tool set; never releases the number.

    Returns one sentence per field left alone because someone changed it since (e.g. in the
    console): the console's value is the owner's newer decision, and writing the value found
    at adoption over it would undo that decision (issue 16, item 3). A URL and its method
    are one pair, judged by the URL: a console edit of the URL keeps the method beside it.
    """
    applied = olds.get("applied_inputs") or {}
    try:
        number = fetch_number(tw, line, sid)  # the live values: one GET
    except NotFoundError:
        return []  # already gone from the account: nothing to restore
    adopted = olds.get("adopted") or {}
    restore = {}
    if FALLBACK[0] in adopted:
        restore = {k: adopted[k] for k in FALLBACK}
        if _same_value(adopted[FALLBACK[0]], applied.get("fallback_url")):
            # "Adopted" our own entry (an interrupted first run): clear it instead.
            restore = {FALLBACK[0]: "", FALLBACK[1]: "POST"}
    if PRIMARY[0] in adopted:
        restore.update(_restore_primary(line, applied, adopted, strict=False))
    if SMS_FALLBACK[0] in adopted:
        restore.update(_restore_sms(applied, adopted))
    left = _not_ours(applied, number, restore)
    _apply(tw, line, number, {k: v for k, v in restore.items() if k not in left})
    return [
        f"{line}: {key} left as it is now ({shown(getattr(number, key))!r}): it was changed "
        f"since this tool set {shown(ours)!r}, so the value found at adoption was not restored"
        for key, ours in left.items()
    ]


def read_line(tw: Twilio, line: str, sid: str, olds: dict[str, Any]) -> dict[str, Any] | None:
    """The line's outputs with live values, or None when the number left the account."""
    try:
        number = read_number(tw, line, sid)  # one listing per refresh, not a GET per line
    except NotFoundError:
        return None
    return _outputs(olds.get("applied_inputs") or {}, number, olds.get("adopted") or {})


def _is_url(value: object) -> bool:
    parts = urlsplit(str(value))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _manages_primary(inputs: dict[str, Any]) -> bool:
    return bool(inputs.get("primary_url")) or bool(inputs.get("test_mode"))


def _apply(tw: Twilio, line: str, number: Any, desired: dict[str, str]) -> Any:
    """POST only the owned fields whose live value differs; return the live number."""
    changes = {k: v for k, v in desired.items() if _norm(k, v) != _norm(k, getattr(number, k))}
    return update_number(tw, line, number, changes)


def _outputs(applied: dict[str, Any], number: Any, adopted: dict[str, str]) -> dict[str, Any]:
    outs: dict[str, Any] = {k: text(getattr(number, k)) for k in LIVE}
    if applied.get("sms_fallback_url") or SMS_FALLBACK[0] in adopted:
        outs.update({k: text(getattr(number, k)) for k in SMS_LIVE})
    outs["adopted"] = dict(adopted)
    outs["applied_inputs"] = _applied(applied)
    return outs


def _applied(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: inputs[k] for k in INPUTS if inputs.get(k) is not None}
