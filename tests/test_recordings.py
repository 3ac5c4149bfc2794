"""Recordings from the repository (issue 17 item 2): a greeting file next to lines.yaml is
deployed as a public asset beside the documents, played with ``<Play>``, and replaced by a
new asset when the file changes. Real program, engine model, contract-checked double.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.lines.load import load_config
from infra.model import LinesConfig, Severity
from infra.program import StackSettings
from infra.render.artifacts import render_all
from infra.routing import audio_assets
from tests.harness.engine import EngineError
from tests.harness.program_engine import ProgramEngine
from tests.test_journeys import CALLER, steps
from tests.test_test_mode import run as cli
from tests.twilio_double.internet import PrimaryOutcome
from tests.twilio_double.people import Caller

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 200
NUMBER = "+14155550109"
LINES = f"""\
version: 1
account: {{name: acme}}
lines:
  - id: studio
    type: department
    number: "{NUMBER}"
    failover:
      voicemail: {{greeting: {{audio: greetings/studio.mp3}}}}
  - id: closed
    type: department
    number: "+14155550110"
    failover:
      message: {{audio: greetings/studio.mp3}}
"""


def write(folder: Path, audio: bytes = MP3) -> LinesConfig:
    (folder / "greetings").mkdir(exist_ok=True)
    (folder / "greetings" / "studio.mp3").write_bytes(audio)
    (folder / "lines.yaml").write_text(LINES)
    return load_config(folder / "lines.yaml", "lines.yaml")[0]


def test_one_file_played_twice_is_one_asset_and_listed_for_review(tmp_path: Path) -> None:
    config = write(tmp_path)
    (recording,) = config.audio_files
    assert recording.source == "greetings/studio.mp3"
    (path,) = audio_assets(config)
    assert path == f"/a/{recording.sha256[:12]}.mp3"
    files = render_all(config, Severity.MINOR)
    assert f'"{path}": {{\n    "file": "greetings/studio.mp3"' in files["recordings.json"]
    played = [text for name, text in files.items() if f"<Play>{path}</Play>" in text]
    assert len(played) == 2  # the voicemail and the message document
    assert not any(name.endswith(".mp3") for name in files)  # the audio is not copied


class Stack:
    def __init__(self, double: Any) -> None:
        self.double = double
        self.engine = ProgramEngine.for_double(double)
        self.state: dict[str, Any] = {}

    def up(self, config: LinesConfig) -> tuple[Any, Counter[str]]:
        before = Counter(self.double.writes())
        run = self.engine.up(config, StackSettings(stack="dev"), self.state)
        self.state = run.state
        return run, Counter(self.double.writes()) - before


def _served(double: Any, path: str) -> dict[str, Any]:
    (version,) = [v for v in double.state.asset_versions.values() if v["path"] == path]
    return version


@pytest.fixture
def stack(twilio_double: Any, tmp_path: Path) -> Stack:
    for number in (NUMBER, "+14155550110"):
        twilio_double.seed_number(number, voice_url="https://legacy.acme.example/" + number)
    return Stack(twilio_double)


def test_a_repository_greeting_is_deployed_public_and_played(stack: Stack, tmp_path: Path) -> None:
    config = write(tmp_path)
    stack.up(config)
    (path,) = audio_assets(config)
    version = _served(stack.double, path)
    assert version["visibility"] == "public"
    assert stack.double.state.files[version["sid"]].data == MP3
    journey = stack.double.place_call(
        NUMBER, CALLER, primary=PrimaryOutcome.http_500, caller=Caller(message_seconds=8)
    )
    assert [kind for kind, _ in steps(journey)] == ["play", "beep", "record", "say", "hangup"]
    played = steps(journey)[0][1]
    assert played.startswith("https://") and played.endswith(path)
    (fetch,) = [r for r in journey.requests if r["url"] == played]
    assert (fetch["status"], fetch["served_by"], fetch["signed"]) == (200, "serverless", False)
    assert stack.double.violations == []


def test_a_changed_file_is_a_new_asset_and_an_unchanged_one_writes_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    first = write(tmp_path)
    stack.up(first)
    _, writes = stack.up(write(tmp_path))
    assert sum(writes.values()) == 0
    (old_path,) = audio_assets(first)
    second = write(tmp_path, MP3 + b"\x01")
    (new_path,) = audio_assets(second)
    assert new_path != old_path
    run, writes = stack.up(second)
    assert writes["Build.create"] == 1 and writes["Deployment.create"] == 1
    assert writes["AssetVersion.create"] == 3  # the recording, its voicemail and message documents
    live = {v["path"] for v in stack.double.state.asset_versions.values()}
    assert {old_path, new_path} <= live  # the old one stays one generation (README)
    journey = stack.double.place_call(
        NUMBER, CALLER, primary=PrimaryOutcome.http_500, caller=Caller(message_seconds=8)
    )
    assert steps(journey)[0][1].endswith(new_path)


def test_a_file_changed_after_the_plan_is_refused_not_deployed(
    stack: Stack, tmp_path: Path
) -> None:
    config = write(tmp_path)
    (tmp_path / "greetings" / "studio.mp3").write_bytes(MP3 + b"late edit")
    with pytest.raises(EngineError, match="changed after it was checked"):
        stack.up(config)
    assert not any(v["path"].startswith("/a/") for v in stack.double.state.asset_versions.values())


def test_drift_names_a_recording_missing_from_the_live_build(stack: Stack, tmp_path: Path) -> None:
    config = write(tmp_path)
    stack.up(config)
    environ = {
        "TWILIO_ACCOUNT_SID": stack.double.account_sid,
        "TWILIO_AUTH_TOKEN": stack.double.auth_token,
        "TWILIO_API_BASE_URL": stack.double.base_url,
    }
    now = datetime(2026, 12, 3, tzinfo=UTC)
    clean = cli("drift", "--format", "json", cwd=tmp_path, now=now, environ=environ)
    assert clean.code == 0, clean.stdout
    (path,) = audio_assets(config)
    for build in stack.double.state.builds.values():  # someone redeployed without it
        build["asset_versions"] = [v for v in build["asset_versions"] if v["path"] != path]
    drifted = cli("drift", "--format", "json", cwd=tmp_path, now=now, environ=environ)
    assert drifted.code == 3
    (finding,) = json.loads(drifted.stdout)["differences"]
    assert (finding["subject"], finding["field"]) == ("stack", "recording")
    assert finding["message"].startswith(f"greetings/studio.mp3 is not deployed (no {path} in")


def test_diff_sees_a_recording_whose_file_changed_between_revisions(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            [
                "git",
                "-C",
                str(tmp_path),
                "-c",
                "user.email=t@example.com",
                "-c",
                "user.name=t",
                *args,
            ],
            check=True,
            capture_output=True,
        )

    write(tmp_path)
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-qm", "base")
    now = datetime(2026, 12, 3, tzinfo=UTC)
    assert cli("diff", "--base", "main", cwd=tmp_path, now=now).code == 0
    write(tmp_path, MP3 + b"\x02")
    result = cli("diff", "--base", "main", cwd=tmp_path, now=now)
    assert result.code == 3
    assert "    greeting recording greetings/studio.mp3 changed (new file content)" in result.stdout
    assert "    message recording greetings/studio.mp3 changed (new file content)" in result.stdout
