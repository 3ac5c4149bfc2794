"""`failover diff` on crafted git histories, and the safety brake it shares with the program."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from infra.cli.status import ExitCode
from infra.compare import ChangeKind, compare
from infra.lines.load import load_bytes
from infra.model import Severity
from infra.safety import Brake, brake_reasons
from tests.harness.cli_runner import failover

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "lines.yaml").read_text()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "lines.yaml").write_text(SHIPPED)
    _git(tmp_path, "add", "lines.yaml")
    _git(tmp_path, "commit", "-qm", "base")
    return tmp_path


def _edit(repo: Path, old: str, new: str, *, commit: bool = False) -> None:
    path = repo / "lines.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    if commit:
        _git(repo, "commit", "-qam", "edit")


def test_no_change_exits_zero(repo: Path) -> None:
    result = failover("diff", "--base", "HEAD", cwd=repo)
    assert result.code == ExitCode.OK
    assert result.stdout == "lines.yaml: HEAD → working copy (no changes)\n"


def test_forward_to_voicemail_story(repo: Path) -> None:
    _edit(repo, '    failover:\n      forward: "+14155550199"   # answering service\n', "")
    result = failover("diff", "--base", "HEAD", cwd=repo)
    assert result.code == ExitCode.CHANGES
    assert result.stdout.splitlines() == [
        "lines.yaml: HEAD → working copy (1 changed)",
        "~ main",
        '    failover forward to +1 415-555-0199 for 20 s, then voicemail "No one is available to take your call. '
        'Please l…" → voicemail "No one is available to take your call. Please l…"',
    ]


def test_between_two_commits_with_greeting_agent_and_test(repo: Path) -> None:
    _edit(repo, "Hej, this is Gus.", "Hi, this is Gus.")
    _edit(repo, "agents: [alice, bob]\n", "agents: [alice, bob, carol]\n", commit=True)
    _edit(
        repo,
        "    test: true   # failover test mode: calls go straight to the failover\n",
        "",
        commit=True,
    )
    result = failover("diff", "--base", "HEAD~2", "--head", "HEAD", cwd=repo)
    assert result.code == ExitCode.CHANGES
    assert result.stdout.splitlines() == [
        "lines.yaml: HEAD~2 → HEAD (3 changed)",
        "~ main",
        "    agent carol added to main queue",
        "~ eli",
        "    test ended: primary restored",
        "~ gus",
        '    greeting changed: "Hej," → "Hi," this is Gus.…',
    ]


def test_forward_confirm_and_queue_ring_changes_are_worded(repo: Path) -> None:
    confirm = next(line for line in SHIPPED.splitlines() if line.startswith("      confirm:"))
    _edit(repo, confirm + "\n", "")
    _edit(repo, "      timeout: 180\n", "      timeout: 180\n      ring: 20\n")
    result = failover("diff", "--base", "HEAD", cwd=repo)
    assert result.code == ExitCode.CHANGES
    assert result.stdout.splitlines()[1:] == [
        "~ main",
        "    each agent rung 30 s → 20 s",
        "~ sales",
        "    forward confirm off: whoever answers the forward (a voicemail too) takes the call",
    ]


def test_queue_test_mode_is_worded_and_counts_as_a_route_change(repo: Path) -> None:
    _edit(repo, "      timeout: 180\n", "      timeout: 180\n      test: true\n")
    result = failover("diff", "--base", "HEAD", "--format", "json", cwd=repo)
    assert result.code == ExitCode.CHANGES
    (change,) = json.loads(result.stdout)["changes"]
    assert change["details"] == ["queue test started: calls go straight into the call queue"]
    assert change["failover_changed"] is True


def test_removed_line_trips_brake_with_distinct_exit_code(repo: Path) -> None:
    text = (repo / "lines.yaml").read_text()
    start = text.index("  - id: press")
    end = text.index("  - id: support")
    (repo / "lines.yaml").write_text(text[:start] + text[end:])
    result = failover("diff", "--base", "HEAD", cwd=repo)
    assert result.code == ExitCode.UNSAFE
    assert "- press\n    line removed: +1 415-555-0104 will be restored" in result.stdout
    assert "not released" in result.stdout
    assert failover("diff", "--base", "HEAD", "--allow-removals", cwd=repo).code == ExitCode.CHANGES
    assert failover("diff", "--base", "HEAD", "--force", cwd=repo).code == ExitCode.CHANGES


def test_test_mode_started_with_new_failover_warns(repo: Path) -> None:
    _edit(
        repo,
        '    number: "+14155550107"\n',
        '    number: "+14155550107"\n    primary: https://voice.acme.example/users/fay\n'
        '    forwarding: ["+14155550140"]\n    test: true\n',
    )
    result = failover("diff", "--base", "HEAD", "--format", "json", cwd=repo)
    report = json.loads(result.stdout)
    (change,) = report["changes"]
    assert change["line"] == "fay" and change["failover_changed"] is True
    assert change["warnings"] == [
        "fay: test mode starts in the same change that sets its failover; test after the failover has been "
        "live for a while (Dialpad waits 24 h for shared lines)"
    ]


def test_markdown_has_mermaid_of_changed_routes_only(repo: Path) -> None:
    forward = next(line for line in SHIPPED.splitlines() if line.startswith("      confirm:"))
    _edit(repo, f'      forward: "+14155550188"\n      timeout: 25\n{forward}\n', "")
    result = failover("diff", "--base", "HEAD", "--format", "markdown", cwd=repo)
    assert "- **`sales`** changed" in result.stdout
    block = result.stdout[result.stdout.index("```mermaid") :]
    assert "sales_in -->|primary fails| sales_0" in block
    assert "main_in" not in block


def test_file_new_at_head_means_every_line_added(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "README").write_text("x")
    _git(tmp_path, "add", "README")
    _git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "lines.yaml").write_text(SHIPPED)
    result = failover("diff", "--base", "HEAD", cwd=tmp_path)
    assert result.code == ExitCode.CHANGES
    assert result.stdout.startswith("lines.yaml: HEAD → working copy (9 added)")


def test_unknown_ref_is_a_clear_error(repo: Path) -> None:
    result = failover("diff", "--base", "no-such-ref", cwd=repo)
    assert result.code == ExitCode.ERROR
    assert result.stderr.startswith("failover: error: cannot read lines.yaml at no-such-ref:")


def test_invalid_base_names_the_ref(repo: Path) -> None:
    _edit(repo, "version: 1", "version: 7", commit=True)
    _edit(repo, "version: 7", "version: 1")
    result = failover("diff", "--base", "HEAD", cwd=repo)
    assert result.code == ExitCode.ERROR
    assert result.stderr.splitlines()[0].startswith(
        "lines.yaml@HEAD:6:10: error: version must be 1"
    )


def _many_lines(count: int, forward: str) -> bytes:
    body = "\n".join(
        f'  - {{id: l{i}, type: department, number: "+1415555{i:04d}", failover: {{forward: "{forward}"}}}}'
        for i in range(count)
    )
    return f"version: 1\naccount: {{name: acme}}\nlines:\n{body}\n".encode()


def test_brake_trips_above_share_and_not_below() -> None:
    old, _ = load_bytes(_many_lines(20, "+16285550100"), "old.yaml")
    new, _ = load_bytes(_many_lines(20, "+16285550199"), "new.yaml")
    changes = compare(old, new)
    assert {c.kind for c in changes} == {ChangeKind.CHANGED} and len(changes) == 20
    ids = [c.line_id for c in changes if c.failover_changed]
    assert brake_reasons(removed=[], rerouted=ids, existing_lines=20) == [
        "20 of 20 lines (100%) change their failover, more than the 30% limit. "
        "If that is intended, raise the limit or force this run"
    ]
    assert brake_reasons(removed=[], rerouted=ids[:6], existing_lines=20) == []
    assert brake_reasons(removed=[], rerouted=ids[:7], existing_lines=20) != []
    assert (
        brake_reasons(
            removed=[], rerouted=ids, existing_lines=20, brake=Brake(max_change_share=1.0)
        )
        == []
    )
    assert brake_reasons(removed=[], rerouted=ids, existing_lines=20, brake=Brake(force=True)) == []
    assert (
        brake_reasons(removed=[], rerouted=ids[:9], existing_lines=9) == []
    )  # too few lines for a share


def test_removals_need_explicit_consent_even_with_force() -> None:
    assert brake_reasons(
        removed=["b", "a"], rerouted=[], existing_lines=3, brake=Brake(force=True)
    ) == [
        "2 line(s) removed (a, b); their numbers would be restored to their earlier settings. "
        "If that is intended, allow removals for this run"
    ]
    assert (
        brake_reasons(
            removed=["a"], rerouted=[], existing_lines=3, brake=Brake(allow_removals=True)
        )
        == []
    )


def test_greeting_only_change_is_described_but_does_not_count_as_rerouting() -> None:
    old, _ = load_bytes(SHIPPED.encode(), "a.yaml")
    new, _ = load_bytes(SHIPPED.replace("Hej, this is Gus.", "Hi.").encode(), "b.yaml")
    (change,) = compare(old, new)
    assert change.line_id == "gus"
    assert change.details == ('greeting changed: "Hej, this is Gus." → "Hi." Leave a message…',)
    assert change.failover_changed is False  # words changed, not where calls go: no brake


def test_a_greeting_edited_near_its_end_shows_what_changed() -> None:
    """Both sides used to print the same truncated start of the greeting."""
    old, _ = load_bytes(SHIPPED.encode(), "a.yaml")
    edited = SHIPPED.replace(
        "Please leave a message after the tone.", "Please leave a message after the beep."
    )
    new, _ = load_bytes(edited.encode(), "b.yaml")
    details = {d for change in compare(old, new) for d in change.details}
    assert 'greeting changed: …message after the "tone." → "beep."' in details


def test_lines_without_voicemail_get_no_greeting_change() -> None:
    """A default greeting edit says nothing about lines whose failover is a URL or a message."""
    old, _ = load_bytes(SHIPPED.encode(), "a.yaml")
    edited = SHIPPED.replace(
        "Please leave a message after the tone.", "Please leave a message now."
    )
    new, _ = load_bytes(edited.encode(), "b.yaml")
    changed = {change.line_id for change in compare(old, new)}
    without_voicemail = {
        line.id
        for line in old.lines
        if all(
            step.kind.value != "voicemail" for sev in Severity for step in line.failover_chain(sev)
        )
    }
    assert without_voicemail and not (changed & without_voicemail)


# --- Review output at scale: the markdown fits a PR comment, --details has everything ------

GITHUB_COMMENT_LIMIT = 65_536
TONE = "No one is available to take your call. Please leave a message after the tone."


def _generated_org(yaml_lines: int) -> str:
    """bench/generate.py's organisation with every line on the default greeting (its lines
    carry their own), so a default-greeting edit reaches them all, as it does in real files."""
    from bench.generate import generate

    text = generate(yaml_lines)
    text = re.sub(
        r'      voicemail:\n        greeting: "[^"]*"\n',
        "      voicemail: {max_length: 100}\n",
        text,
    )
    text = re.sub(r'voicemail: \{greeting: "[^"]*", ', "voicemail: {", text)
    default = "max_length: 120}"
    assert text.count(default) == 1
    return text.replace(default, f'max_length: 120, greeting: "{TONE}"}}')


def _greeting_edit_repo(tmp_path: Path, yaml_lines: int) -> tuple[Path, int]:
    text = _generated_org(yaml_lines)
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "lines.yaml").write_text(text)
    _git(tmp_path, "add", "lines.yaml")
    _git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "lines.yaml").write_text(text.replace("after the tone.", "after the beep."))
    return tmp_path, text.count("  - id: ")


def _assert_summarised(repo: Path, count: int) -> None:
    result = failover(
        "diff", "--base", "HEAD", "--format", "markdown", "--details", "d.md", cwd=repo
    )
    assert result.code == ExitCode.CHANGES, result.stderr
    md = result.stdout
    assert len(md) < 60_000 < GITHUB_COMMENT_LIMIT
    assert f'- **{count:,} lines**: greeting changed: …message after the "tone." → "beep."' in md
    assert f"and {count - 3:,} more)" in md and "every line's detail is in `d.md`" in md
    assert result.stderr == "wrote every line's change to d.md\n"
    details = (repo / "d.md").read_text()
    assert details.count('  - greeting changed: …message after the "tone." → "beep."') == count
    assert {f"line-{i}" for i in range(count)} == set(re.findall(r"`(line-\d+)`", details))


def test_default_greeting_edit_on_a_generated_file_is_one_summary_row(tmp_path: Path) -> None:
    repo, count = _greeting_edit_repo(tmp_path, 10_000)  # a "10,000-line file" as bench/ counts
    assert count == 1_000  # before summarising, this comment was 335,185 characters
    _assert_summarised(repo, count)


def test_text_format_keeps_every_line_of_a_repeated_change(tmp_path: Path) -> None:
    repo, count = _greeting_edit_repo(tmp_path, 2_000)
    text = failover("diff", "--base", "HEAD", cwd=repo).stdout  # terminals keep every line
    assert text.count('    greeting changed: …message after the "tone." → "beep."') == count == 200
    assert "repeated" not in text


@pytest.mark.slow
def test_acceptance_default_greeting_edit_on_10000_lines_is_under_60000_characters(
    tmp_path: Path,
) -> None:
    repo, count = _greeting_edit_repo(tmp_path, 100_000)
    assert count == 10_000
    _assert_summarised(repo, count)


def test_details_file_is_rewritten_only_while_failover_wrote_it_unchanged(repo: Path) -> None:
    _edit(repo, "Hej, this is Gus.", "Hi, this is Gus.")
    first = failover("diff", "--base", "HEAD", "--details", "review.md", cwd=repo)
    assert first.code == ExitCode.CHANGES
    written = (repo / "review.md").read_text()
    assert written.startswith("<!-- written by failover diff --details; rewritten only while")
    assert "- **`gus`** changed\n  - greeting changed:" in written
    assert failover("diff", "--base", "HEAD", "--details", "review.md", cwd=repo).code == 3
    (repo / "review.md").write_text(written + "a reviewer's note\n")
    refused = failover(
        "diff", "--base", "HEAD", "--format", "markdown", "--details", "review.md", cwd=repo
    )
    assert refused.code == ExitCode.ERROR and refused.stdout == ""
    assert refused.stderr.startswith(
        "failover: error: review.md already exists and was not written by failover"
    )
    assert (repo / "review.md").read_text().endswith("a reviewer's note\n")


@pytest.mark.parametrize("kind", ["foreign", "symlink", "directory"])
def test_details_never_replaces_what_failover_did_not_write(repo: Path, kind: str) -> None:
    _edit(repo, "Hej, this is Gus.", "Hi, this is Gus.")
    target = repo / "notes.md"
    if kind == "foreign":
        target.write_text("mine\n")
    elif kind == "symlink":
        (repo / "elsewhere.md").write_text("mine\n")
        target.symlink_to(repo / "elsewhere.md")
    else:
        target.mkdir()
    result = failover("diff", "--base", "HEAD", "--details", "notes.md", cwd=repo)
    assert result.code == ExitCode.ERROR and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    if kind == "symlink":
        assert target.is_symlink() and (repo / "elsewhere.md").read_text() == "mine\n"
    elif kind == "foreign":
        assert target.read_text() == "mine\n"


def test_details_into_a_missing_folder_is_a_one_line_error(repo: Path) -> None:
    _edit(repo, "Hej, this is Gus.", "Hi, this is Gus.")
    result = failover("diff", "--base", "HEAD", "--details", "no-such-dir/d.md", cwd=repo)
    assert result.code == ExitCode.ERROR and result.stdout == ""
    assert result.stderr == (
        "failover: error: cannot write no-such-dir/d.md: No such file or directory\n"
    )


def test_a_declared_rename_is_one_renamed_line_and_no_removal(repo: Path) -> None:
    _edit(repo, "  - id: sales\n", "  - id: sales-desk\n    renamed_from: [sales]\n")
    result = failover("diff", "--base", "HEAD", cwd=repo)
    assert result.code == ExitCode.CHANGES  # no removal: the brake does not trip
    assert result.stdout.splitlines()[:3] == [
        "lines.yaml: HEAD → working copy (1 changed)",
        "~ sales-desk",
        "    renamed: sales → sales-desk; its number +1 415-555-0101 is updated in place, not "
        "restored",
    ]


def test_a_rename_without_renamed_from_is_caught_with_a_hint(repo: Path) -> None:
    _edit(repo, "  - id: sales\n", "  - id: sales-desk\n")
    result = failover("diff", "--base", "HEAD", cwd=repo)
    assert result.code == ExitCode.UNSAFE  # a removal, as the program would see it
    assert (
        "warning: sales-desk: looks like a rename of sales (same number +1 415-555-0101): add "
        "`renamed_from: [sales]` to sales-desk so its number is updated in place"
    ) in result.stdout + result.stderr
    old, _ = load_bytes(SHIPPED.encode(), "lines.yaml")
    new, _ = load_bytes((repo / "lines.yaml").read_bytes(), "lines.yaml")
    kinds = {c.line_id: c.kind for c in compare(old, new)}
    assert kinds == {"sales-desk": ChangeKind.ADDED, "sales": ChangeKind.REMOVED}


def test_a_renamed_queued_line_keeps_its_route() -> None:
    old, _ = load_bytes(SHIPPED.encode(), "lines.yaml")
    renamed = SHIPPED.replace("  - id: support\n", "  - id: care\n    renamed_from: [support]\n")
    assert renamed != SHIPPED
    new, _ = load_bytes(renamed.encode(), "lines.yaml")
    for severity in Severity:
        (change,) = compare(old, new, severity)
        assert change.line_id == "care" and change.kind is ChangeKind.CHANGED
        assert change.details[0].startswith("renamed: support → care")
        assert change.failover_changed is False
