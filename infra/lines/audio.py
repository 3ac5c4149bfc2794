"""Recorded greetings and messages: an https URL, or a file in the repository.

A file is given relative to lines.yaml (``greetings/sales.mp3``) and must stay inside the
folder that holds lines.yaml, be a regular file of a type Twilio's ``<Play>`` plays, and fit a
Serverless asset. The program deploys it as a ``public`` asset next to the documents, at a
path made from its content (``infra.naming.audio_asset_path``).

Sources:
- ``<Play>`` plays audio/mpeg, audio/wav (audio/wave, audio/x-wav), audio/aiff (audio/x-aifc,
  audio/x-aiff), audio/gsm (audio/x-gsm) and audio/ulaw
  (https://www.twilio.com/docs/voice/twiml/play, "Supported audio file types"); the asset's
  Content-Type comes from the file's extension (``infra.twilio.serverless.CONTENT_TYPES``).
- Asset size: 25 MB per file is the limit Twilio states for Assets
  (https://support.twilio.com/hc/en-us/articles/360019105433); that the Serverless API has the
  same limit is *unconfirmed* (README "Verify on a live account first").

Must not import: twilio, pulumi, jsonschema, infra.render, infra.providers, infra.cli;
anything of infra but the model.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from infra.model import AudioFile
from infra.naming import PLAY_SUFFIXES

MAX_AUDIO_BYTES = 25 * 1024 * 1024


def is_url(value: str) -> bool:
    return value.startswith("https://")


def suffix(value: str) -> str:
    return PurePosixPath(value).suffix.lower()


def _sniffed(head: bytes, kind: str) -> bool:
    """Whether the first bytes look like ``kind`` (formats without a header always pass)."""
    if kind == ".mp3":
        return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0)
    if kind in (".wav", ".wave"):
        return head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    if kind in (".aif", ".aiff", ".aifc"):
        return head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")
    return True


def file_problem(value: str, base_dir: Path) -> str | None:
    """Why ``value`` (relative to ``base_dir``) cannot be deployed as a recording, or None."""
    kind = suffix(value)
    if kind not in PLAY_SUFFIXES:
        allowed = ", ".join(sorted(PLAY_SUFFIXES))
        return f"{value} is not a file type Twilio's <Play> plays; use one of {allowed}"
    written = PurePosixPath(value)
    if written.is_absolute() or ".." in written.parts:
        return f"{value} must be a path inside the folder of lines.yaml, without .."
    root = base_dir.resolve()
    target = (base_dir / value).resolve()
    if not target.is_relative_to(root):
        return f"{value} leads outside the folder of lines.yaml (through a link); copy the file in"
    try:
        info = target.stat()
    except OSError:
        return f"{value} does not exist next to lines.yaml; add the file or fix the path"
    if not stat.S_ISREG(info.st_mode):
        return f"{value} is not a regular file"
    if info.st_size == 0:
        return f"{value} is empty"
    if info.st_size > MAX_AUDIO_BYTES:
        return (
            f"{value} is {info.st_size:,} bytes; a Twilio asset holds at most 25 MB: "
            "shorten it or lower its bit rate"
        )
    with target.open("rb") as handle:
        head = handle.read(16)
    if not _sniffed(head, kind):
        return f"{value} does not hold {PLAY_SUFFIXES[kind]} audio, though its name says so"
    return None


def digest(location: Path) -> str:
    """sha256 of a checked recording (read in chunks: up to 25 MB)."""
    hasher = hashlib.sha256()
    with location.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


class Recordings:
    """The recordings from the repository a file plays, each read (hashed) once."""

    def __init__(
        self, base_dir: Path | None, reader: Callable[[str], bytes | None] | None = None
    ) -> None:
        self.base_dir = base_dir
        self.reader = reader
        self.files: dict[str, AudioFile] = {}
        self.read: dict[str, str] = {}

    def sha256(self, value: str | None) -> str:
        """The file's sha256; "" for a URL, or when there is no folder to read it from."""
        if value is None or is_url(value):
            return ""
        if self.base_dir is None:
            if self.reader is not None and value not in self.read:
                data = self.reader(value)
                self.read[value] = "" if data is None else hashlib.sha256(data).hexdigest()
            return self.read.get(value, "")
        if value not in self.files:
            location = self.base_dir / value
            self.files[value] = AudioFile(
                source=value,
                location=location.as_posix(),
                sha256=digest(location),
                suffix=suffix(value),
            )
        return self.files[value].sha256
