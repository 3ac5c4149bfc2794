"""Checks of what callers hear: a message given as a mapping (text with its own voice, or a
recording), the Say limits, and languages the prompts table has no texts for.

Must not import: twilio, pulumi, jsonschema, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.errors import Diagnostic
from infra.lines import audio, prompts, voices
from infra.lines.context import Context
from infra.lines.source import JsonPath
from infra.lines.text import one_line
from infra.model import DEFAULT_LANGUAGE, DEFAULT_VOICE


def say_text(
    ctx: Context, path: JsonPath, text: str, voice: str, what: str
) -> Iterator[Diagnostic]:
    if not text.strip():
        yield ctx.error(path, f"{what} is blank; write what callers should hear")
        return
    size, limit = len(text.encode("utf-8")), voices.say_limit(voice)
    if size > limit:
        yield ctx.error(
            path,
            f"{what} is {size} bytes; Twilio's <Say> with {one_line(voice)} speaks at most {limit} "
            "(error 13521): shorten it",
        )


def _own_voicemails(ctx: Context) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """(path, the keys set right there) of defaults.voicemail and every line's voicemail."""
    base = ctx.mapping("defaults", "voicemail")
    if base:
        yield ("defaults", "voicemail"), base
    for index, line in ctx.lines():
        failover = line.get("failover")
        own = failover.get("voicemail") if isinstance(failover, dict) else None
        if isinstance(own, dict):
            yield ("lines", index, "failover", "voicemail"), own


def _line_speech(ctx: Context, line: dict[str, Any]) -> tuple[str, str]:
    """The voice and language of a line's voicemail after defaults are merged."""
    base = ctx.mapping("defaults", "voicemail")
    failover = line.get("failover")
    own = failover.get("voicemail") if isinstance(failover, dict) else None
    merged = {**base, **(own if isinstance(own, dict) else {})}
    voice, language = merged.get("voice"), merged.get("language")
    return (
        voice if isinstance(voice, str) else DEFAULT_VOICE,
        language if isinstance(language, str) else DEFAULT_LANGUAGE,
    )


def message_checks(ctx: Context, path: JsonPath, message: dict[str, Any]) -> Iterator[Diagnostic]:
    """``failover.message`` as a mapping: text (with its own voice and language) or audio."""
    line = ctx.document.data["lines"][path[1]]
    speech = _line_speech(ctx, line if isinstance(line, dict) else {})
    text, audio = message.get("text"), message.get("audio")
    written = ctx.document.data["lines"][path[1]]["failover"]["message"]
    if "text" not in written and "audio" not in written:
        yield ctx.error(
            path,
            "failover.message needs text (what is said) or audio (a recording: a file next to "
            "lines.yaml or an https URL)",
        )
        return
    if text is not None and audio is not None:
        yield ctx.error(
            (*path, "audio"),
            "failover.message has both text and audio; keep one (audio is played, text is said)",
            key=True,
        )
    if audio is not None:
        for key in ("voice", "language"):
            if key in message:
                yield ctx.warning(
                    (*path, key),
                    f"{key} applies to a spoken text, not to audio; remove it",
                    key=True,
                )
        return
    voice = message.get("voice", speech[0])
    language = message.get("language", speech[1])
    if isinstance(text, str) and isinstance(voice, str):
        yield from say_text(ctx, (*path, "text"), text, voice, "message")
    if ("voice" in message or "language" in message) and isinstance(voice, str):
        problem = voices.voice_problem(voice, language if isinstance(language, str) else "")
        if problem:
            where = (*path, "voice" if "voice" in message else "language")
            yield ctx.warning(where, one_line(problem))


def check_prompts_language(ctx: Context) -> Iterator[Diagnostic]:
    """A language the prompts table does not know: the tool's own prompts stay English."""
    defaults = ctx.mapping("defaults", "prompts")
    for path, own in _own_voicemails(ctx):
        language = own.get("language")
        if not isinstance(language, str) or prompts.translated(language):
            continue
        overridden = set(defaults)
        if path[0] == "lines":
            data = ctx.document.data["lines"][path[1]]
            line_prompts = data.get("prompts") if isinstance(data, dict) else None
            overridden |= set(line_prompts) if isinstance(line_prompts, dict) else set()
        missing = [key for key in prompts.KEYS if key not in overridden]
        if missing:
            yield ctx.warning(
                (*path, "language"),
                f"the tool has no {one_line(language)} texts for its own prompts, so "
                f"{', '.join(missing)} stay English; set them under prompts "
                "(in defaults or on the line)",
            )


def recordings(ctx: Context) -> Iterator[tuple[JsonPath, str]]:
    """(path, value) of every ``audio`` in the file: greetings (where set) and messages."""
    for path, own in _own_voicemails(ctx):
        greeting = own.get("greeting")
        if isinstance(greeting, dict) and isinstance(greeting.get("audio"), str):
            yield (*path, "greeting", "audio"), greeting["audio"]
    for index, line in ctx.lines():
        failover = line.get("failover")
        message = failover.get("message") if isinstance(failover, dict) else None
        if isinstance(message, dict) and isinstance(message.get("audio"), str):
            yield ("lines", index, "failover", "message", "audio"), message["audio"]


def check_audio_files(ctx: Context) -> Iterator[Diagnostic]:
    """A recording from the repository exists, stays inside it and is audio Twilio plays."""
    if ctx.base_dir is None:
        return
    for path, value in recordings(ctx):
        if audio.is_url(value) or not ctx.usable(*path):
            continue
        problem = audio.file_problem(value, ctx.base_dir)
        if problem:
            yield ctx.error(path, f"audio {one_line(problem)}")
