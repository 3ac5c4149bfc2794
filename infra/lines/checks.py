"""Meaning checks the schema cannot express, each reporting every problem it finds.

Each check is ``(Context) -> Iterator[Diagnostic]`` and looks only at lines and agents that
passed the schema (``Context.lines()`` skips the rest), so one run reports structural and
semantic problems together without tripping over wrongly typed values.
Must not import: twilio, pulumi, jsonschema, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from infra.errors import Diagnostic
from infra.lines import audio, numbers, urls, voices
from infra.lines.context import Check, Context
from infra.lines.renames import check_renames
from infra.lines.sms import check_sms, sms_settings
from infra.lines.source import Document, JsonPath
from infra.lines.spoken import (
    check_audio_files,
    check_prompts_language,
    message_checks,
    say_text,
)
from infra.lines.text import one_line, quoted
from infra.model import DEFAULT_GREETING, DEFAULT_LANGUAGE, DEFAULT_VOICE

_NOT_DIALABLE = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.UAN: "a universal access number",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
    PhoneNumberType.PAGER: "a pager number",
}
_SHARED_TYPES = {"main_line", "department", "contact_center"}


def run_all(
    document: Document, broken: set[tuple[str | int, ...]], base_dir: Path | None = None
) -> list[Diagnostic]:
    """Run every check; never raises on data the schema accepted."""
    if not isinstance(document.data, dict) or () in broken:
        return []
    context = Context(document, broken, base_dir)
    return [diagnostic for check in CHECKS for diagnostic in check(context)]


def check_unique_ids(ctx: Context) -> Iterator[Diagnostic]:
    for section, noun in (("lines", "line"), ("agents", "agent")):
        seen: dict[str, int] = {}
        for index, item in ctx.items(section):
            ident = item.get("id")
            if not isinstance(ident, str):
                continue
            if ident in seen:
                first = ctx.at((section, seen[ident], "id"))
                yield ctx.error(
                    (section, index, "id"),
                    f'{noun} id "{ident}" is already used at line {first.line}; ids must be unique',
                )
            else:
                seen[ident] = index


def _line_numbers(ctx: Context) -> Iterator[tuple[int, dict[str, Any], str]]:
    for index, line in ctx.lines():
        number = line.get("number")
        if isinstance(number, str):
            yield index, line, number


def check_unique_numbers(ctx: Context) -> Iterator[Diagnostic]:
    seen: dict[str, tuple[str, str]] = {}
    for index, line, number in _line_numbers(ctx):
        same = numbers.canonical(number)
        if same in seen:
            owner, written = seen[same]
            spelled = "" if written == number else f" (written {written} there)"
            message = (
                f'number {number} is already the number of line "{owner}"{spelled}; '
                "each Twilio number belongs to one line"
            )
            yield ctx.error(("lines", index, "number"), message)
        else:
            seen[same] = (str(line.get("id", f"#{index + 1}")), number)


def _validity(number: str) -> str | None:
    country, kind = numbers.kind(number)
    if kind == PhoneNumberType.UNKNOWN:
        region = phonenumbers.region_code_for_country_code(country) if country else "ZZ"
        where = f" for region {region}" if region not in ("ZZ", "001") else ""
        return (
            f"{number} is not a valid phone number{where} (check the digits and the country code)"
        )
    return numbers.written_problem(number)


def check_line_numbers(ctx: Context) -> Iterator[Diagnostic]:
    for index, _, number in _line_numbers(ctx):
        problem = _validity(number)
        if problem:
            yield ctx.error(("lines", index, "number"), problem)


def _outside_numbers(ctx: Context) -> Iterator[tuple[JsonPath, str, str]]:
    """(path, number, what) for every number the tool would dial out to."""
    for index, line in ctx.lines():
        failover = line.get("failover")
        forward = failover.get("forward") if isinstance(failover, dict) else None
        if isinstance(forward, str):
            yield ("lines", index, "failover", "forward"), forward, "failover number"
        forwarding = line.get("forwarding")
        for position, number in enumerate(forwarding if isinstance(forwarding, list) else []):
            path = ("lines", index, "forwarding", position)
            if isinstance(number, str) and ctx.usable(*path):
                yield path, number, "forwarding number"
    for index, agent in ctx.items("agents"):
        if isinstance(agent.get("phone"), str):
            yield ("agents", index, "phone"), agent["phone"], "agent phone"


def check_outside_numbers(ctx: Context) -> Iterator[Diagnostic]:
    ours = {
        numbers.canonical(number): str(line.get("id", f"#{index + 1}"))
        for index, line, number in _line_numbers(ctx)
    }
    for path, number, what in _outside_numbers(ctx):
        emergency = numbers.emergency(number)
        if emergency:
            yield ctx.error(
                path,
                f"{what} {number} dials the emergency number {emergency}; "
                "failover must never send calls to emergency services: use an ordinary number",
            )
            continue
        problem = _validity(number)
        if problem:
            yield ctx.error(path, f"{what} {problem}")
            continue
        kind = numbers.kind(number)[1]
        canonical = numbers.canonical(number)
        if kind in _NOT_DIALABLE:
            yield ctx.error(
                path,
                f"{what} {number} is {_NOT_DIALABLE[kind]}; failover must dial an ordinary PSTN number",
            )
        elif canonical in ours:
            yield ctx.error(
                path,
                f'{what} {number} is the Twilio number of line "{ours[canonical]}"; '
                "it must be an outside PSTN number, not one of this account's numbers",
            )


def _urls(ctx: Context) -> Iterator[tuple[JsonPath, str]]:
    """(path, url) for every URL in the file."""
    webhook = ctx.mapping("alerts").get("webhook")
    if isinstance(webhook, str):
        yield ("alerts", "webhook"), webhook
    callback = ctx.mapping("defaults", "voicemail").get("recording_callback")
    if isinstance(callback, str):
        yield ("defaults", "voicemail", "recording_callback"), callback
    for index, line in ctx.lines():
        if isinstance(line.get("primary"), str):
            yield ("lines", index, "primary"), line["primary"]
        failover = line.get("failover")
        if not isinstance(failover, dict):
            continue
        if isinstance(failover.get("url"), str):
            yield ("lines", index, "failover", "url"), failover["url"]
    for path, sms, _ in sms_settings(ctx):
        if isinstance(sms.get("url"), str):
            yield (*path, "url"), sms["url"]
    for index, line in ctx.lines():
        failover = line.get("failover")
        if not isinstance(failover, dict):
            continue
        message = failover.get("message")
        if isinstance(message, dict) and audio.is_url(str(message.get("audio", ""))):
            yield ("lines", index, "failover", "message", "audio"), message["audio"]
        voicemail = failover.get("voicemail")
        if isinstance(voicemail, dict) and isinstance(voicemail.get("recording_callback"), str):
            path = ("lines", index, "failover", "voicemail", "recording_callback")
            yield path, voicemail["recording_callback"]
    for where, _, own in _voicemails(ctx):
        greeting = own.get("greeting")
        if isinstance(greeting, dict) and audio.is_url(str(greeting.get("audio", ""))):
            yield (*where, "greeting", "audio"), greeting["audio"]


def check_urls(ctx: Context) -> Iterator[Diagnostic]:
    for path, url in _urls(ctx):
        problem = urls.problem(url)
        if problem:
            yield ctx.error(path, f"{path[-1]} {problem}")


def check_failover_shape(ctx: Context) -> Iterator[Diagnostic]:
    for index, line in ctx.lines():
        failover = line.get("failover")
        failover = failover if isinstance(failover, dict) else {}
        base = ("lines", index, "failover")
        for alone in ("url", "message"):
            # failover.method belongs to url (VoiceFallbackMethod)
            others = ", ".join(sorted(k for k in failover if k not in (alone, "method")))
            if alone in failover and others:
                yield ctx.error(
                    (*base, alone),
                    f"failover.{alone} stands alone, but {others} is also set; keep one",
                )
        if "method" in failover and "url" not in failover:
            yield ctx.error(
                (*base, "method"),
                "failover.method is the HTTP method of failover.url; add failover.url or remove "
                "the method",
                key=True,
            )
        has_forward = "forward" in failover or bool(line.get("forwarding"))
        if "timeout" in failover and not has_forward:
            yield ctx.error(
                (*base, "timeout"),
                "failover.timeout applies to forwarding; add failover.forward or remove the timeout",
                key=True,
            )
        if "confirm" in failover and not has_forward:
            yield ctx.error(
                (*base, "confirm"),
                "failover.confirm applies to forwarding; add failover.forward or remove confirm",
                key=True,
            )
        kind = line.get("type")
        if kind == "user" and "forward" in failover and line.get("forwarding"):
            yield ctx.error(
                (*base, "forward"),
                "a user line's failover number is the last of its forwarding numbers; "
                "remove failover.forward or add it to forwarding",
            )
        if kind in _SHARED_TYPES and "forwarding" in line:
            yield ctx.error(
                ("lines", index, "forwarding"),
                f"forwarding is for user lines only; use failover.forward on a {kind} line",
                key=True,
            )


def check_queues(ctx: Context) -> Iterator[Diagnostic]:
    # An agent with a wrong phone is still defined: name only the phone as wrong.
    raw_agents = ctx.document.data.get("agents")
    agents = {
        agent.get("id")
        for agent in (raw_agents if isinstance(raw_agents, list) else [])
        if isinstance(agent, dict)
    }
    queued: set[str] = set()
    for index, line in ctx.lines():
        queue = line.get("queue")
        if not isinstance(queue, dict) or not isinstance(queue.get("agents"), list):
            continue
        if line.get("type") == "user":
            yield ctx.error(
                ("lines", index, "queue"),
                "a call queue is for shared lines only (main_line, department, contact_center), not user lines",
                key=True,
            )
        for position, agent in enumerate(queue["agents"]):
            queued.add(agent)
            path = ("lines", index, "queue", "agents", position)
            if not ctx.usable(*path) or not isinstance(agent, str):
                continue  # the schema already said what is wrong with it
            if ctx.usable("agents") and agent not in agents:
                yield ctx.error(
                    path,
                    f"agent {quoted(agent)} is not defined; add it under agents or remove it from this queue",
                )
    for index, agent in ctx.items("agents"):
        if isinstance(agent.get("id"), str) and agent["id"] not in queued:
            yield ctx.warning(
                ("agents", index, "id"),
                f'agent "{agent["id"]}" answers no queue; add it to a line\'s queue.agents or remove it',
            )


def check_test_mode(ctx: Context) -> Iterator[Diagnostic]:
    for index, line in ctx.lines():
        test = line.get("test")
        until = test.get("until") if isinstance(test, dict) else None
        if isinstance(until, str) and ctx.usable("lines", index, "test", "until"):
            try:
                datetime.strptime(until, "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                yield ctx.error(
                    ("lines", index, "test", "until"),
                    f"test.until {quoted(until)} is not a real date and time; "
                    "write it as YYYY-MM-DDTHH:MM:SSZ in UTC, e.g. 2026-12-01T06:00:00Z",
                )
        if line.get("test") and "primary" not in line:
            yield ctx.error(
                ("lines", index, "test"),
                "test mode needs primary: the tool points the primary at the failover and must know "
                "what to restore; add primary or remove test",
                key=True,
            )
        queue = line.get("queue")
        if isinstance(queue, dict) and queue.get("test") is True:
            if "primary" not in line:
                yield ctx.error(
                    ("lines", index, "queue", "test"),
                    "queue test mode needs primary: the tool points the primary at the call queue "
                    "and must know what to restore; add primary or remove queue.test",
                    key=True,
                )
            if line.get("test") is True:
                yield ctx.error(
                    ("lines", index, "queue", "test"),
                    "test and queue.test both point the primary somewhere; keep one",
                    key=True,
                )
        failover = line.get("failover")
        failover_url = failover.get("url") if isinstance(failover, dict) else None
        if failover_url and failover_url == line.get("primary"):
            yield ctx.warning(
                ("lines", index, "failover", "url"),
                "failover.url is the primary URL itself; when the primary fails this fails too",
            )


def _voicemails(ctx: Context) -> Iterator[tuple[JsonPath, dict[str, Any], dict[str, Any]]]:
    """(path, settings after merging defaults, the keys set right there)."""
    base = ctx.mapping("defaults", "voicemail")
    if base:
        yield ("defaults", "voicemail"), base, base
    for index, line in ctx.lines():
        failover = line.get("failover")
        own = failover.get("voicemail") if isinstance(failover, dict) else None
        if isinstance(own, dict):
            yield ("lines", index, "failover", "voicemail"), {**base, **own}, own


def check_speech(ctx: Context) -> Iterator[Diagnostic]:
    for path, settings, own in _voicemails(ctx):
        voice = settings.get("voice", DEFAULT_VOICE)
        language = settings.get("language", DEFAULT_LANGUAGE)
        greeting = settings.get("greeting", DEFAULT_GREETING)
        if not isinstance(voice, str):
            continue
        if not isinstance(greeting, str):  # a recording: nothing is said
            pass
        elif "greeting" in own:
            yield from say_text(ctx, (*path, "greeting"), greeting, voice, "greeting")
        elif "voice" in own:
            # The inherited greeting is spoken with this line's voice: check it against that
            # voice's limit, and say so at the voice.
            yield from say_text(
                ctx, (*path, "voice"), greeting, voice, "the greeting inherited from defaults"
            )
        if ("voice" in own or "language" in own) and isinstance(language, str):
            problem = voices.voice_problem(voice, language)
            if problem:
                where = (*path, "voice" if "voice" in own else "language")
                yield ctx.warning(where, one_line(problem))
    default_voice = ctx.mapping("defaults", "voicemail").get("voice", DEFAULT_VOICE)
    for index, line in ctx.lines():
        failover = line.get("failover")
        message = failover.get("message") if isinstance(failover, dict) else None
        path = ("lines", index, "failover", "message")
        if isinstance(message, str) and isinstance(default_voice, str):
            yield from say_text(ctx, path, message, default_voice, "message")
        elif isinstance(message, dict) and ctx.usable(*path):
            yield from message_checks(ctx, path, message)


CHECKS: tuple[Check, ...] = (
    check_unique_ids,
    check_renames,
    check_unique_numbers,
    check_line_numbers,
    check_outside_numbers,
    check_failover_shape,
    check_sms,
    check_queues,
    check_test_mode,
    check_speech,
    check_prompts_language,
    check_audio_files,
    check_urls,
)
