"""CLI manners a platform engineer expects: help without arguments, suggestions, no
abbreviations, exit codes in help, and a closed pipe that ends quietly."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from infra.cli.env import Env
from infra.cli.main import SUBCOMMANDS, main
from infra.cli.status import ExitCode
from tests.harness.cli_runner import failover

ROOT = Path(__file__).resolve().parent.parent


def test_bare_failover_prints_help_and_succeeds() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main([], Env(stdout=out, stderr=err, cwd=ROOT, environ={}))
    assert code == ExitCode.OK and err.getvalue() == ""
    help_text = out.getvalue()
    assert help_text.startswith("usage: failover")
    for name in SUBCOMMANDS:
        assert name in help_text
    assert "exit codes:" in help_text and "TWILIO_ACCOUNT_SID" in help_text


def test_a_mistyped_subcommand_gets_a_suggestion() -> None:
    result = failover("valdate", cwd=ROOT)
    assert result.code == ExitCode.USAGE
    assert "(did you mean 'validate'?)" in result.stderr


def test_options_are_never_abbreviated() -> None:
    """`--sev` would silently mean --severity until a second --sev… option arrives."""
    result = failover("plan", "--sev", "severe", cwd=ROOT)
    assert result.code == ExitCode.USAGE
    assert "unrecognized arguments: --sev" in result.stderr


def test_every_subcommand_help_lists_the_exit_codes() -> None:
    for name in SUBCOMMANDS:
        result = failover(name, "--help", cwd=ROOT)
        assert result.code == ExitCode.OK, name
        assert "exit codes:" in result.stdout, name


def test_a_closed_pipe_ends_quietly() -> None:
    """`failover plan | head -1`: no traceback, no "This is a bug" when the reader leaves."""
    for args in (["plan", "lines.yaml"], []):
        process = subprocess.Popen(
            [sys.executable, "-m", "infra", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.read(10)
        process.stdout.close()  # the reader leaves after the first bytes
        stderr = process.stderr.read().decode()
        process.stderr.close()
        process.wait(timeout=60)
        assert "Traceback" not in stderr and "bug" not in stderr, stderr
        assert process.returncode == 0, (args, stderr)


def test_validate_several_files_as_one_json_document() -> None:
    result = failover(
        "validate",
        "lines.yaml",
        "tests/fixtures/invalid/wrong-types.yaml",
        "--format",
        "json",
        cwd=ROOT,
    )
    assert result.code == ExitCode.ERROR
    document = json.loads(result.stdout)  # one document, not two concatenated
    assert document["format_version"] == 1 and document["ok"] is False
    assert [(f["file"], f["ok"]) for f in document["files"]] == [
        ("lines.yaml", True),
        ("tests/fixtures/invalid/wrong-types.yaml", False),
    ]
    assert {d["file"] for d in document["diagnostics"]} == {
        "tests/fixtures/invalid/wrong-types.yaml"
    }


def test_validate_github_annotations() -> None:
    result = failover(
        "validate", "tests/fixtures/invalid/wrong-types.yaml", "--format", "github", cwd=ROOT
    )
    assert result.code == ExitCode.ERROR
    first = result.stdout.splitlines()[0]
    assert first == (
        "::error file=tests/fixtures/invalid/wrong-types.yaml,line=4,col=22::"
        'timeout must be a whole number, not "twenty"'
    )


def test_every_json_output_names_its_format_version() -> None:
    for args in (
        ("validate", "--format", "json"),
        ("plan", "--format", "json"),
        ("stack-config", "--stack", "dev", "--format", "json"),
    ):
        result = failover(*args, cwd=ROOT)
        assert json.loads(result.stdout)["format_version"] == 1, args


def test_bash_completion_is_valid_and_knows_the_commands_and_options(tmp_path: Path) -> None:
    result = failover("completion", "bash", cwd=ROOT)
    assert result.code == ExitCode.OK
    script = tmp_path / "failover.bash"
    script.write_text(result.stdout)
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    for word in (*SUBCOMMANDS, "--severity", "--format"):
        assert word in result.stdout, word


def test_init_starts_a_repository_that_validates_and_never_overwrites(tmp_path: Path) -> None:
    result = failover("init", "--account", "shop", cwd=tmp_path)
    assert result.code == ExitCode.OK, result.stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "Pulumi.yaml",
        "__main__.py",
        "lines.yaml",
        "requirements.txt",
        "schemas/lines.schema.json",
    ]
    assert (tmp_path / "schemas/lines.schema.json").read_bytes() == (
        ROOT / "schemas/lines.schema.json"
    ).read_bytes()
    assert failover("validate", cwd=tmp_path).code == ExitCode.OK
    assert failover("stack-config", "--stack", "any", cwd=tmp_path).stdout == (
        "LINES_FILE=lines.yaml\nSEVERITY=minor\n"
    )
    (tmp_path / "lines.yaml").write_text("mine\n")
    again = failover("init", cwd=tmp_path)
    assert again.code == ExitCode.ERROR and "nothing was written" in again.stderr
    assert (tmp_path / "lines.yaml").read_text() == "mine\n"


def test_a_non_ascii_token_is_a_clear_error_naming_the_variable_not_the_value() -> None:
    environ = {
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "tøkén✓-secret",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
    }
    result = failover("drift", cwd=ROOT, environ=environ)
    assert result.code == ExitCode.ERROR
    assert result.stderr == (
        "failover: error: TWILIO_AUTH_TOKEN has characters Twilio credentials never contain "
        "(non-ASCII); copy it again from the Twilio console\n"
    )
    assert "secret" not in result.stdout + result.stderr
