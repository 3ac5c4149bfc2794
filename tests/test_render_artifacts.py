"""All artifacts together: golden files per kind of line, byte stability, isolation of changes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from infra.model import LinesConfig, Severity
from infra.render.artifacts import render_all, write_artifacts
from infra.render.bindings import PLACEHOLDERS
from tests.harness.golden import GOLDEN_CASES, assert_golden, every_kind_config
from tests.test_render_studio import check_flow
from tests.test_render_twiml import check_document

ALERTS = "https://hooks.acme.example/failover"
SHIPPED = Path(__file__).resolve().parent.parent / "lines.yaml"


def load_shipped() -> LinesConfig:
    load = pytest.importorskip("infra.lines.load", reason="the loader is not there yet")
    if hasattr(load, "load_file"):
        return load.load_file(SHIPPED)  # type: ignore[no-any-return]
    config, _warnings = load.load_config(SHIPPED)
    return config  # type: ignore[no-any-return]


def check_files(files: dict[str, str]) -> list[str]:
    """Every artifact parses; documents and flows pass their structural checks."""
    problems: list[str] = []
    shared = {k.removeprefix("twiml/shared") for k in files if k.startswith("twiml/shared/")}
    for relative, xml in files.items():
        if relative.startswith("twiml/"):
            problems += check_document(relative, xml, shared, PLACEHOLDERS.domain_name)
    for relative, text in files.items():
        if not text.endswith("\n"):
            problems.append(f"{relative}: no trailing newline")
        if relative.endswith(".json"):
            value = json.loads(text)
            if relative.startswith("studio/"):
                problems += [f"{relative}: {p}" for p in check_flow(value)]
    return problems


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden(case: str, update_golden: bool) -> None:
    config, severity = GOLDEN_CASES[case]
    files = render_all(config, severity)
    assert check_files(files) == []
    assert_golden(case, files, update_golden)


def test_golden_shipped_lines_yaml(update_golden: bool) -> None:
    files = render_all(load_shipped(), Severity.MINOR)
    assert check_files(files) == []
    assert_golden("shipped-lines-yaml", files, update_golden)


@pytest.mark.parametrize("severity", list(Severity))
def test_shipped_lines_yaml_renders_valid_artifacts_for_every_line(severity: Severity) -> None:
    config = load_shipped()
    files = render_all(config, severity)
    assert check_files(files) == []
    entries = json.loads(files["entries.json"])["lines"]
    assert set(entries) == {line.id for line in config.lines}


def test_every_artifact_kind_is_covered_by_a_golden_case() -> None:
    kinds = {
        relative.split("/")[0] if "/" in relative else relative
        for config, severity in GOLDEN_CASES.values()
        for relative in render_all(config, severity)
    }
    # no "studio": alerts left the caller's path, so no stack deploys a flow any more
    assert kinds == {"twiml", "taskrouter", "functions", "entries.json", "recordings.json"}


@pytest.mark.parametrize("alerts", [None, ALERTS])
def test_rendering_twice_gives_identical_bytes(alerts: str | None) -> None:
    for severity in Severity:
        first = render_all(every_kind_config(alerts), severity)
        second = render_all(every_kind_config(alerts), severity)
        assert first == second
        assert list(first) == sorted(first)


@pytest.mark.parametrize("alerts", [None, ALERTS])
def test_changing_one_greeting_changes_only_that_lines_documents(alerts: str | None) -> None:
    """A line's own greeting lives in a content-addressed shared document: editing it adds
    that document and re-points only this line's entry (or forward/queue document, or flow)."""
    config = every_kind_config(alerts)
    for line in config.lines:
        voicemail = dataclasses.replace(line.voicemail, greeting="A brand new greeting.")
        lines = tuple(
            dataclasses.replace(other, voicemail=voicemail) if other.id == line.id else other
            for other in config.lines
        )
        changed_config = dataclasses.replace(config, lines=lines)
        for severity in Severity:
            before, after = render_all(config, severity), render_all(changed_config, severity)
            changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
            own = {
                p
                for p in changed
                if p.startswith(("twiml/shared/v/", "twiml/shared/b/"))
                or p.endswith((f"/f/{line.id}.xml", f"/q/{line.id}.xml"))
                or p.startswith(f"studio/{line.id}.")
                or p == f"studio/{line.id}.json"
            }
            entries_before = json.loads(before["entries.json"])["lines"]
            entries_after = json.loads(after["entries.json"])["lines"]
            others = {k for k in entries_before if entries_before[k] != entries_after[k]}
            assert changed - own - {"entries.json"} == set(), (line.id, changed)
            assert others <= {line.id}, line.id


def test_severity_changes_only_the_entries(tmp_path: Path) -> None:
    config = every_kind_config(ALERTS)
    minor, severe = render_all(config, Severity.MINOR), render_all(config, Severity.SEVERE)
    assert {path for path in minor if minor[path] != severe[path]} == {"entries.json"}


def test_write_artifacts_writes_render_all_and_removes_only_its_own_stale_files(
    tmp_path: Path,
) -> None:
    config = every_kind_config(ALERTS)
    (tmp_path / "notes.txt").write_text("not ours")
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "mine.js").write_text("a Serverless project's own function")
    first = write_artifacts(config, Severity.MINOR, tmp_path)
    files = render_all(config, Severity.MINOR)
    assert [path.relative_to(tmp_path).as_posix() for path in first] == list(files)
    for relative, text in files.items():
        assert (tmp_path / relative).read_bytes() == text.encode("utf-8")
    # A line disappears: its documents, written by the first run, go; nothing else does.
    fewer = dataclasses.replace(config, lines=config.lines[1:])
    gone = [p for p in files if p.endswith(f"/f/{config.lines[0].id}.xml")]
    assert gone
    write_artifacts(fewer, Severity.MINOR, tmp_path)
    assert not any((tmp_path / relative).exists() for relative in gone)
    assert (tmp_path / "notes.txt").read_text() == "not ours"
    assert (tmp_path / "functions" / "mine.js").read_text() == "a Serverless project's own function"


def test_write_artifacts_never_overwrites_or_removes_a_file_it_did_not_write(
    tmp_path: Path,
) -> None:
    from infra.errors import InfraError

    config = every_kind_config(ALERTS)
    own = f"/f/{config.lines[0].id}.xml"  # the first line's forwarding document
    target = next(p for p in render_all(config, Severity.MINOR) if p.endswith(own))
    (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / target).write_text("hand-written")
    with pytest.raises(InfraError, match="--force"):
        write_artifacts(config, Severity.MINOR, tmp_path)
    assert (tmp_path / target).read_text() == "hand-written"
    assert not (tmp_path / ".failover-artifacts.json").exists()
    write_artifacts(config, Severity.MINOR, tmp_path, force=True)
    # Edited after being written: no longer ours, so a later run that drops it keeps it.
    (tmp_path / target).write_text("edited")
    write_artifacts(dataclasses.replace(config, lines=config.lines[1:]), Severity.MINOR, tmp_path)
    assert (tmp_path / target).read_text() == "edited"


def test_the_render_layer_imports_nothing_it_must_not() -> None:
    import subprocess
    import sys

    forbidden = ("twilio.rest", "pulumi", "infra.lines.load", "infra.providers", "infra.cli")
    probe = (
        "import sys, infra.render, infra.render.functions, infra.render.studio\n"
        f"print([m for m in sys.modules if m.startswith({forbidden!r})])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
