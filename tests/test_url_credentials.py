"""Credentials embedded in a URL (``https://user:password@host/…``) are never printed.

Twilio accepts such URLs for a number's voice URLs (HTTP Basic auth to the customer's server,
https://www.twilio.com/docs/usage/security#http-authentication), so a live account may hold
them even though ``lines.yaml`` refuses them. Every command runs here on input and on live
state holding a recognisable password in URLs, in every format; its stdout, stderr and every
file it writes are searched for the password (as is, and URL-quoted).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from infra.cli.env import Env
from infra.cli.main import main
from infra.cli.status import ExitCode
from infra.errors import InfraError
from infra.redact import scrub
from tests.harness.cli_runner import Result, failover
from tests.test_drift import credentials, deploy, shipped

ROOT = Path(__file__).resolve().parent.parent
SECRET = "pw-sentinel-4c1d9e"
USERINFO = f"ops:{SECRET}@"
FORMATS = ("text", "json", "markdown")


def assert_clean(result: Result, *files: Path) -> None:
    seen = [result.stdout, result.stderr] + [
        p.read_text(errors="replace") for f in files for p in ([f] if f.is_file() else f.rglob("*"))
        if p.is_file()
    ]  # fmt: skip
    for needle in (SECRET, quote(SECRET, safe="")):
        assert not [s for s in seen if needle in s], (result, needle)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def leaky_file(tmp_path: Path) -> Path:
    """The shipped lines, committed, then billing's secondary and sales' primary given
    credentials in the working copy (and an alerts webhook with credentials)."""
    text = (ROOT / "lines.yaml").read_text()
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "lines.yaml").write_text(text)
    _git(tmp_path, "add", "lines.yaml")
    _git(tmp_path, "commit", "-qm", "base")
    leaky = text.replace("https://backup-voice.", f"https://{USERINFO}backup-voice.")
    leaky = leaky.replace(
        "# alerts:\n#   webhook: https://", f"alerts:\n  webhook: https://{USERINFO}"
    )
    assert leaky.count(SECRET) == 2
    (tmp_path / "lines.yaml").write_text(leaky)
    return tmp_path


@pytest.mark.parametrize("fmt", FORMATS)
def test_offline_commands_on_input_with_credentials(leaky_file: Path, fmt: str) -> None:
    runs = [
        failover("validate", "--format", "json" if fmt == "json" else "text", cwd=leaky_file),
        failover("plan", "--format", fmt, cwd=leaky_file),
        failover("plan", "--out", "build", cwd=leaky_file),
        failover("diff", "--base", "HEAD", "--format", fmt, cwd=leaky_file),
    ]
    for result in runs:
        assert result.code == ExitCode.ERROR
        assert "credentials" in result.stderr + result.stdout
        assert_clean(result, leaky_file / "build")


@pytest.fixture
def leaky_account(twilio_double: Any) -> Any:
    """The shipped lines deployed, then URLs with credentials set in the Console: one line's
    fallback and primary, and a number no line declares."""
    d = twilio_double
    deploy(d, shipped())
    d.set_dialing_permission("GB", True)
    d.edit_number("+14155550101", voice_fallback_url=f"https://{USERINFO}console.example/fb")
    d.edit_number("+14155550100", voice_url=f"https://{USERINFO}pbx.example/main")
    d.seed_number(
        "+16285559100",
        voice_url=f"https://{USERINFO}pbx.example/v",
        voice_fallback_url=f"https://{USERINFO}pbx.example/fb",
    )
    return d


@pytest.mark.parametrize("fmt", FORMATS)
def test_live_commands_on_an_account_with_credentials_in_urls(
    leaky_account: Any, tmp_path: Path, fmt: str
) -> None:
    environ = credentials(leaky_account)
    drift = failover("drift", "--format", fmt, cwd=ROOT, environ=environ)
    assert drift.code == ExitCode.CHANGES
    assert "https://***@console.example/fb" in drift.stdout
    assert_clean(drift)
    check = failover("check", "--format", fmt, cwd=ROOT, environ=environ)
    assert check.code == ExitCode.CHANGES
    assert "https://***@console.example/fb" in check.stdout
    assert_clean(check)
    for args in (("voicemails", "--format", fmt), ("agents", "list", "--format", fmt)):
        result = failover(*args, cwd=ROOT, environ=environ)
        assert result.code == ExitCode.OK, result
        assert_clean(result)


def test_import_writes_no_credentials(leaky_account: Any, tmp_path: Path) -> None:
    result = failover(
        "import", "--out", "draft.yaml", cwd=tmp_path, environ=credentials(leaky_account)
    )
    assert result.code == ExitCode.OK
    assert_clean(result, tmp_path / "draft.yaml")
    assert "***@pbx.example" in (tmp_path / "draft.yaml").read_text()


def test_twilio_error_messages_lose_url_credentials() -> None:
    message = f"VoiceFallbackUrl https://{USERINFO}x.example/a is not valid; see http://a@b.c/d"
    assert scrub(message) == (
        "VoiceFallbackUrl https://***@x.example/a is not valid; see http://***@b.c/d"
    )
    assert scrub("https://x.example/@handle and mail@example.com") == (
        "https://x.example/@handle and mail@example.com"
    )


@pytest.mark.parametrize("error", [InfraError, RuntimeError])
def test_an_error_repeating_a_url_loses_its_credentials(
    monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    """Whatever a command fails with, the one place that prints errors scrubs them."""
    import io

    import infra.cli.validate

    def fail(*_args: object) -> ExitCode:
        raise error(f"could not read https://{USERINFO}pbx.example/voice")

    monkeypatch.setattr(infra.cli.validate, "run", fail)
    err = io.StringIO()
    code = main(["validate"], Env(stdout=io.StringIO(), stderr=err, cwd=ROOT, environ={}))
    assert code == ExitCode.ERROR
    assert "https://***@pbx.example/voice" in err.getvalue()
    assert SECRET not in err.getvalue()
