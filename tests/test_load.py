"""infra/load.py: every failure mode has its own fixture and its exact diagnostics."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import jsonschema
import pytest

from infra.errors import ConfigError
from infra.lines.load import SCHEMA_PATH, load_bytes, load_config
from infra.model import DEFAULT_GREETING, LineType, Severity, TargetKind
from tests.harness.cli_runner import failover

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "tests" / "fixtures" / "invalid"
VALID = ROOT / "tests" / "fixtures" / "valid"
CASES = sorted(p.stem for p in INVALID.glob("*.yaml"))


def test_schema_is_valid_draft_2020_12() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")


def _walk(node: object, path: str = "#"):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def test_every_property_has_a_description_for_editor_hover() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    missing = []
    for path, node in _walk(schema):
        for name, prop in (
            node.get("properties", {}).items() if isinstance(node.get("properties"), dict) else ()
        ):
            if "description" not in prop and "$ref" not in prop:
                missing.append(f"{path}/properties/{name}")
            elif "$ref" in prop and "description" not in prop:
                target = schema["$defs"][prop["$ref"].split("/")[-1]]
                if "description" not in target:
                    missing.append(f"{path}/properties/{name}")
    assert missing == []


def test_shipped_lines_yaml_is_valid_and_complete() -> None:
    config, warnings = load_config(ROOT / "lines.yaml", "lines.yaml")
    assert warnings == []
    assert (ROOT / "lines.yaml").read_text().splitlines()[0] == (
        "# yaml-language-server: $schema=schemas/lines.schema.json"
    )
    types = [line.type for line in config.lines]
    assert types.count(LineType.MAIN_LINE) >= 1
    assert types.count(LineType.DEPARTMENT) >= 2
    assert types.count(LineType.USER) >= 4
    assert any(line.type is LineType.CONTACT_CENTER and line.queue for line in config.lines)
    assert len(config.agents) >= 5
    assert any(len(line.forwarding) == 5 for line in config.lines)
    assert any(line.url for line in config.lines)
    assert any(line.voicemail.greeting != DEFAULT_GREETING for line in config.lines)
    assert any(line.test for line in config.lines)


@pytest.mark.parametrize("case", CASES)
def test_invalid_fixture_gives_exact_diagnostics(case: str, update_golden: bool) -> None:
    result = failover("validate", f"{case}.yaml", cwd=INVALID)
    assert result.code == 1
    assert "Traceback" not in result.stderr
    expected_path = INVALID / f"{case}.expected"
    if update_golden or not expected_path.exists():
        expected_path.write_text(result.stderr)
    expected = expected_path.read_text()
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(True), result.stderr.splitlines(True), "expected", "actual"
        )
    )
    assert result.stderr == expected, diff


@pytest.mark.parametrize("case", CASES)
def test_every_diagnostic_names_file_line_and_column(case: str) -> None:
    result = failover("validate", f"{case}.yaml", cwd=INVALID)
    *diagnostics, count = result.stderr.splitlines()
    assert diagnostics, "at least one diagnostic"
    for line in diagnostics:
        file, row, column, rest = line.split(":", 3)
        assert file == f"{case}.yaml"
        assert int(row) >= 1 and int(column) >= 1
        assert rest.startswith((" error: ", " warning: "))
    assert count.endswith(("error", "errors", "warning", "warnings"))


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(INVALID / "wrong-types.yaml")
    assert len(caught.value.diagnostics) == 3


def test_schema_and_meaning_errors_come_together() -> None:
    raw = b"""version: 1
account: {name: acme}
lines:
  - {id: main, type: mainline, number: "+14155550100"}
  - {id: sales, type: department, number: "+14155550101", failover: {forward: "+14155550101"}}
"""
    with pytest.raises(ConfigError) as caught:
        load_bytes(raw, "mixed.yaml")
    messages = [str(d) for d in caught.value.diagnostics]
    assert messages[0].startswith("mixed.yaml:4:22: error: type must be one of")
    assert messages[1].startswith(
        'mixed.yaml:5:79: error: failover number +14155550101 is the Twilio number of line "sales"'
    )


def test_positions_are_not_part_of_equality() -> None:
    compact = b'version: 1\naccount: {name: acme}\nlines: [{id: main, type: main_line, number: "+14155550100"}]\n'
    spread = b'# comment\n\nversion: 1\naccount:\n  name: acme\nlines:\n  - id: main\n    type: main_line\n    number: "+14155550100"\n'  # noqa: E501
    (a, _), (b, _) = load_bytes(compact, "a.yaml"), load_bytes(spread, "b.yaml")
    assert a.lines == b.lines
    assert a.lines[0].where.line != b.lines[0].where.line


def test_unknown_voice_language_pair_is_a_warning_not_an_error() -> None:
    raw = b"""version: 1
account: {name: acme}
lines:
  - id: main
    type: main_line
    number: "+14155550100"
    failover: {voicemail: {voice: Polly.Brian, language: en-US}}
"""
    config, warnings = load_bytes(raw, "w.yaml")
    assert config.lines[0].voicemail.voice == "Polly.Brian"
    assert [str(w) for w in warnings] == [
        'w.yaml:7:35: warning: voice "Polly.Brian" speaks en-GB, but language is en-US; Twilio may refuse the <Say> (lines[0].failover.voicemail.voice)'  # noqa: E501
    ]


def test_defaults_apply_and_line_overrides_win() -> None:
    config, _ = load_config(ROOT / "lines.yaml")
    sales, gus, fay = config.line("sales"), config.line("gus"), config.line("fay")
    assert sales.forward_timeout_s == 25 and sales.voicemail.voice == "Polly.Joanna"
    assert gus.voicemail.voice == "Polly.Brian" and gus.voicemail.max_length_s == 120
    assert fay.voicemail.greeting == DEFAULT_GREETING


def test_user_line_fails_over_to_its_most_recent_forwarding_number() -> None:
    config, _ = load_config(ROOT / "lines.yaml")
    dana = config.line("dana")
    assert dana.forwarding[-1] == "+14155550124"
    chain = dana.failover_chain()
    assert [step.kind for step in chain] == [TargetKind.FORWARD, TargetKind.VOICEMAIL]
    assert chain[0].to == "+14155550124"


def test_queue_is_used_only_when_severe() -> None:
    config, _ = load_config(ROOT / "lines.yaml")
    support, sales = config.line("support"), config.line("sales")
    assert [s.kind for s in support.failover_chain(Severity.MINOR)] == [TargetKind.VOICEMAIL]
    assert [s.kind for s in support.failover_chain(Severity.SEVERE)] == [
        TargetKind.QUEUE,
        TargetKind.VOICEMAIL,
    ]
    assert sales.failover_chain(Severity.SEVERE) == sales.failover_chain(Severity.MINOR)


def test_missing_file_is_a_diagnostic_not_a_traceback(tmp_path: Path) -> None:
    result = failover("validate", "nope.yaml", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.startswith("nope.yaml:1:1: error: cannot read file")


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (9 * 1024 * 1024))
    result = failover("validate", "big.yaml", cwd=tmp_path)
    assert result.code == 1
    assert "may be at most 8 MiB" in result.stderr


@pytest.mark.parametrize("case", CASES)
def test_fast_schema_path_agrees_with_jsonschema(case: str) -> None:
    """The compiled fast path may only ever skip jsonschema when jsonschema finds nothing."""
    from infra.lines import load
    from infra.lines.source import read_document

    document, problems = read_document(INVALID / f"{case}.yaml")
    if document.data is None:
        pytest.skip("not parseable; the schema never runs")
    slow = list(load._validator().iter_errors(document.data))
    assert (load._schema_errors(document.data) == []) == (slow == [])


def test_fast_schema_path_accepts_the_shipped_file() -> None:
    from infra.lines import load
    from infra.lines.source import read_document

    document, _ = read_document(ROOT / "lines.yaml")
    assert load._schema_errors(document.data) == []
    assert list(load._validator().iter_errors(document.data)) == []
