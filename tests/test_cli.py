"""The `failover` CLI, run in-process: exit codes, output formats, README kept in step."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli.main import SUBCOMMANDS
from infra.cli.status import ExitCode
from tests.harness.cli_runner import failover

ROOT = Path(__file__).resolve().parent.parent


def test_validate_shipped_file_exits_zero() -> None:
    result = failover("validate", cwd=ROOT)
    assert result.code == ExitCode.OK
    assert result.stdout == "lines.yaml: ok, 9 lines, 5 agents (0 errors, 0 warnings)\n"


def test_validate_json_lists_diagnostics_with_positions() -> None:
    result = failover(
        "validate", "tests/fixtures/invalid/wrong-types.yaml", "--format", "json", cwd=ROOT
    )
    assert result.code == ExitCode.ERROR
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(d["line"], d["column"], d["path"]) for d in report["diagnostics"]] == [
        (4, 22, "defaults.forward.timeout"),
        (9, 11, "lines[0].test"),
        (10, 21, "lines[0].queue.agents"),
    ]


def test_plan_text_tells_each_line_story() -> None:
    result = failover("plan", cwd=ROOT)
    assert result.code == ExitCode.OK
    text = result.stdout
    assert "9 lines, 1 in test mode" in text
    assert (
        'on failure  forward to +1 415-555-0199 for 20 s, then voicemail "No one is available'
        in text
    )
    assert "on failure  secondary server https://backup-voice.acme.example/billing" in text
    assert re.search(r"eli .*✗ TEST MODE", text)
    assert "severe      queue for Alice Ng, Bob Okafor (up to 180 s), then voicemail" in text
    assert "forward to +1 415-555-0188 for 25 s (the callee presses a key to take it)" in text


def test_plan_shows_an_agents_initial_duty_and_a_queues_ring(tmp_path: Path) -> None:
    text = (ROOT / "lines.yaml").read_text()
    text = text.replace('phone: "+14155550112"}', 'phone: "+14155550112", duty: off}')
    text = text.replace(
        "      timeout: 180\n", "      timeout: 180\n      ring: 20\n      test: true\n"
    )
    (tmp_path / "lines.yaml").write_text(text)
    result = failover("plan", "lines.yaml", cwd=tmp_path)
    assert result.code == ExitCode.OK, result.stderr
    assert (
        "queue for Alice Ng, Bob Okafor (starts Off Duty) (up to 180 s, each agent rung 20 s)"
        in result.stdout
    )
    assert re.search(r"main .*✗ QUEUE TEST: calls go straight into the call queue", result.stdout)
    markdown = failover("plan", "lines.yaml", "--format", "markdown", cwd=tmp_path).stdout
    assert re.search(r"\| \*\*Main line\*\* .*\| ❌ queue test \|", markdown)


def test_plan_severe_switches_only_lines_with_a_queue() -> None:
    minor = json.loads(failover("plan", "--format", "json", cwd=ROOT).stdout)
    severe = json.loads(
        failover("plan", "--format", "json", "--severity", "severe", cwd=ROOT).stdout
    )
    changed = [a["id"] for a, b in zip(minor["lines"], severe["lines"], strict=True) if a != b]
    assert changed == ["main", "support"]
    assert [step["kind"] for step in severe["lines"][0]["failover"]] == ["queue", "voicemail"]


def test_plan_markdown_has_table_and_mermaid() -> None:
    result = failover("plan", "lines.yaml", "--format", "markdown", cwd=ROOT)
    assert result.code == ExitCode.OK
    md = result.stdout
    assert "| Line | Number | Normally | When the primary fails | Test |" in md
    assert md.count("\n| **") == 9
    block = md[md.index("```mermaid") :]
    assert block.startswith("```mermaid\nflowchart LR\n")
    assert "eli_in -->|primary fails| eli_0" in block
    assert "class eli_in test" in block
    assert "dana_0 -->|no answer| dana_1" in block


def test_plan_of_invalid_file_exits_one_with_diagnostics() -> None:
    result = failover("plan", "tests/fixtures/invalid/duplicate-line-id.yaml", cwd=ROOT)
    assert result.code == ExitCode.ERROR
    assert result.stdout == ""
    assert "duplicate-line-id.yaml:5:10: error: line id" in result.stderr


@pytest.mark.parametrize(
    "argv", [["plan", "--format", "yaml"], ["nonsense"], [], ["plan", "--severity", "extreme"]]
)
def test_bad_arguments_exit_two(argv: list[str]) -> None:
    result = failover(*argv, cwd=ROOT)
    assert result.code == ExitCode.USAGE
    assert "usage: failover" in result.stderr


def test_every_subcommand_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, module in SUBCOMMANDS.items():
        assert module.HELP
        assert f"`failover {name}" in readme, f"README does not document `failover {name}`"
        result = failover(name, "--help", cwd=ROOT)
        assert result.code == ExitCode.OK and "usage: failover" in result.stdout


def test_python_dash_m_infra_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "infra", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("lines.yaml: ok")


def test_unexpected_error_is_one_line_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from infra.cli import plan
    from infra.cli.env import Env
    from infra.cli.main import main

    def boom(*_args: object) -> ExitCode:
        raise ValueError("kaboom")

    monkeypatch.setattr(plan, "run", boom)
    err = io.StringIO()
    code = main(["plan"], Env(stdout=io.StringIO(), stderr=err, cwd=ROOT))
    assert code == ExitCode.ERROR
    assert (
        err.getvalue()
        == "failover: ValueError: kaboom\nThis is a bug in failover; rerun with --traceback and report it.\n"
    )


def test_readme_example_validates(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    example = next(
        block for block in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "version: 1" in block
    )
    (tmp_path / "lines.yaml").write_text(example)
    result = failover("validate", cwd=tmp_path)
    assert result.code == ExitCode.OK, result.stderr


def test_validate_several_files_reports_each_and_fails_if_any_is_invalid() -> None:
    result = failover(
        "validate", "lines.yaml", "tests/fixtures/invalid/empty.yaml", "lines.yaml", cwd=ROOT
    )
    assert result.code == ExitCode.ERROR
    assert result.stdout.count("lines.yaml: ok, 9 lines") == 2
    assert result.stderr.startswith("tests/fixtures/invalid/empty.yaml:1:1: error: file is empty")


def test_plan_markdown_of_a_large_file_fits_a_comment_and_details_hold_every_row(
    tmp_path: Path,
) -> None:
    from bench.generate import generate

    (tmp_path / "lines.yaml").write_text(generate(3_000))  # 300 lines: ~80,000 characters before
    result = failover("plan", "--format", "markdown", "--details", "plan.md", cwd=tmp_path)
    assert result.code == ExitCode.OK, result.stderr
    md = result.stdout
    assert len(md) < 60_000
    rows = re.findall(r"^\| \*\*Line (\d+)\*\*", md, re.M)
    assert [int(r) for r in rows] == list(range(len(rows))) and 0 < len(rows) < 300
    assert (
        f"{300 - len(rows)} more lines not in this table: every line's detail is in `plan.md`" in md
    )
    assert "Every line by failover:\n- forward, then voicemail: 300 lines\n" in md
    table = (tmp_path / "plan.md").read_text()
    assert table.startswith("<!-- written by failover plan --details;")
    assert re.findall(r"^\| \*\*Line (\d+)\*\*", table, re.M) == [str(i) for i in range(300)]


def test_plan_markdown_of_a_small_file_is_whole_and_says_nothing_of_details() -> None:
    md = failover("plan", "--format", "markdown", cwd=ROOT).stdout
    assert "not in this table" not in md and "left out" not in md and "--details" not in md
