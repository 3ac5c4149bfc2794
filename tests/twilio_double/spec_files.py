"""Where the double finds Twilio's OpenAPI files, and the pinned checksums they must match.

The files come from the npm package ``@twilio-alpha/mcp@0.7.0`` via ``script/fetch-openapi``
into ``$TWILIO_OAI_DIR`` or ``<repo>/.cache/twilio-oai/`` (git-ignored). Their SHA-256 sums are
pinned in ``tests/fixtures/openapi/SHA256SUMS`` and checked once per process.
Must not import: infra.*
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FETCH_SCRIPT = REPO_ROOT / "script" / "fetch-openapi"
CHECKSUMS = REPO_ROOT / "tests" / "fixtures" / "openapi" / "SHA256SUMS"
DEFAULT_DIR = REPO_ROOT / ".cache" / "twilio-oai"

SPEC_FILES = {
    "api.twilio.com": "twilio_api_v2010.json",
    "studio.twilio.com": "twilio_studio_v2.json",
    "serverless.twilio.com": "twilio_serverless_v1.json",
    "taskrouter.twilio.com": "twilio_taskrouter_v1.json",
    "events.twilio.com": "twilio_events_v1.json",
    "monitor.twilio.com": "twilio_monitor_v1.json",
    "voice.twilio.com": "twilio_voice_v1.json",
}

_verified: set[Path] = set()
_lock = threading.Lock()


class SpecMissingError(RuntimeError):
    """Twilio's OpenAPI files are absent or not the pinned ones."""


def spec_dir() -> Path:
    return Path(os.environ.get("TWILIO_OAI_DIR") or DEFAULT_DIR)


def _missing(directory: Path) -> list[str]:
    return [name for name in SPEC_FILES.values() if not (directory / name).is_file()]


def _pinned() -> dict[str, str]:
    pinned = {}
    for line in CHECKSUMS.read_text().splitlines():
        digest, _, name = line.partition("  ")
        pinned[name.strip()] = digest.strip()
    return pinned


def _verify(directory: Path) -> None:
    for name, digest in _pinned().items():
        actual = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        if actual != digest:
            raise SpecMissingError(
                f"{directory / name} has sha256 {actual}, expected {digest} "
                f"(pinned in {CHECKSUMS}); delete it and run script/fetch-openapi"
            )


def fetch() -> subprocess.CompletedProcess[str]:
    """Run ``script/fetch-openapi`` (npm registry only)."""
    return subprocess.run(  # noqa: S603 - fixed path inside the repository
        [str(FETCH_SCRIPT)], capture_output=True, text=True, check=False, timeout=300
    )


def ensure_specs(*, allow_fetch: bool = False) -> Path:
    """The directory holding the pinned files; fetch them first if allowed and absent."""
    directory = spec_dir()
    with _lock:
        if directory in _verified:
            return directory
        if _missing(directory) and allow_fetch:
            result = fetch()
            if result.returncode != 0:
                raise SpecMissingError(f"script/fetch-openapi failed:\n{result.stderr.strip()}")
        missing = _missing(directory)
        if missing:
            raise SpecMissingError(
                f"Twilio OpenAPI files missing in {directory}: {', '.join(missing)}. "
                "Run script/fetch-openapi (needs npm and the npm registry) "
                "or point TWILIO_OAI_DIR at a directory holding them."
            )
        _verify(directory)
        _verified.add(directory)
        return directory
