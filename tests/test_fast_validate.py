"""`failover validate` is fast without changing a single answer (issue "scale to 10,000
lines", figure P1): the schema check is compiled ahead of time and used only for the exact
schema it was compiled from, jsonschema loads only for files with schema errors, and the
emergency-number check asks phonenumbers region by region only for numbers that can be one.
Speed itself is measured in bench/run.py (P1, P1w), never here."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import fastjsonschema
import phonenumbers
import pytest

from infra.lines import load, numbers

ROOT = Path(__file__).resolve().parent.parent
COMPILED = ROOT / "schemas" / f"{load.COMPILED_CHECK}.py"


def test_the_compiled_check_is_the_one_for_the_shipped_schema() -> None:
    """After editing schemas/lines.schema.json, run script/compile-schema."""
    import failover_schemas.lines_schema_check as compiled

    assert compiled.SCHEMA == load.SCHEMA_PATH.read_bytes(), "run script/compile-schema"
    if compiled.VERSION != fastjsonschema.VERSION:
        pytest.skip(f"compiled with fastjsonschema {compiled.VERSION}, not this venv's")
    assert COMPILED.read_text(encoding="utf-8") == load.compiled_check_source(), (
        "run script/compile-schema"
    )


def _data() -> dict[str, object]:
    return {
        "version": 1,
        "account": {"name": "acme"},
        "lines": [{"id": "main", "type": "main_line", "number": "+14155550100"}],
    }


def test_validate_uses_the_compiled_check_while_the_schema_is_unchanged() -> None:
    import failover_schemas.lines_schema_check as compiled

    load._fast_check.cache_clear()
    try:
        assert load._fast_check() is compiled.validate
    finally:
        load._fast_check.cache_clear()


def test_an_edited_schema_is_compiled_at_run_time_not_checked_with_stale_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compiled check must never answer for another schema: one that forbids what the
    shipped one allows (a line without a name) is compiled afresh and says so."""
    import failover_schemas.lines_schema_check as compiled

    stricter = copy.deepcopy(load.schema())
    stricter["$defs"]["line"]["required"] = [*stricter["$defs"]["line"]["required"], "name"]
    edited = load.json.dumps(stricter).encode()
    monkeypatch.setattr(load, "_schema_bytes", lambda: edited)
    load.schema.cache_clear()
    load._fast_check.cache_clear()
    load._validator.cache_clear()
    try:
        check = load._fast_check()
        assert check is not compiled.validate
        with pytest.raises(fastjsonschema.JsonSchemaException):
            check(_data())
        compiled.validate(_data())  # the stale code would have let it through
        assert [e.validator for e in load._schema_errors(_data())] == ["required"]
    finally:
        monkeypatch.undo()
        load.schema.cache_clear()
        load._fast_check.cache_clear()
        load._validator.cache_clear()
    assert load._schema_errors(_data()) == []


_RUN = """
import sys
from infra.cli.main import main
code = main(["validate", *sys.argv[1:]])
print(*sorted(sys.modules), sep="\\n")
sys.exit(int(code))
"""


def _imported(*argv: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `failover validate` in a fresh interpreter; its result and every module it loaded
    (``-X importtime`` does not list modules found by the editable install's finder)."""
    result = subprocess.run(
        [sys.executable, "-c", _RUN, *argv], cwd=cwd, capture_output=True, text=True, check=False
    )
    return result, set(result.stdout.splitlines())


def test_a_clean_file_loads_no_jsonschema_and_a_broken_one_still_explains(tmp_path: Path) -> None:
    clean, loaded = _imported("lines.yaml", cwd=ROOT)
    assert clean.returncode == 0, clean.stderr[-2000:]
    assert "lines.yaml: ok" in clean.stdout
    assert not {n for n in loaded if n.split(".")[0] in ("jsonschema", "referencing")}
    assert "failover_schemas.lines_schema_check" in loaded

    (tmp_path / "bad.yaml").write_text(
        'version: 1\naccount: {name: acme}\nlines:\n  - {id: main, type: main_line, number: "+1415"}\n'
    )
    broken, loaded = _imported("bad.yaml", cwd=tmp_path)
    assert broken.returncode == 1
    assert "jsonschema" in loaded
    assert "bad.yaml:4:41: error: number must be an E.164 number in quotes" in broken.stderr


def _emergency_region_by_region(number: str) -> str | None:
    """What ``numbers.emergency`` answered before it had a fast path, verbatim."""
    found = numbers.parsed(number)
    if found is None:
        return None
    national = phonenumbers.national_significant_number(found)
    regions = phonenumbers.region_codes_for_country_code(found.country_code or 0)
    valid = phonenumbers.is_valid_number(found)
    for region in regions:
        if phonenumbers.is_emergency_number(national, region) or (
            not valid and phonenumbers.connects_to_emergency_number(national, region)
        ):
            short = next(
                (
                    national[:size]
                    for size in range(2, len(national))
                    if phonenumbers.is_emergency_number(national[:size], region)
                ),
                national,
            )
            return f"{short} in {region}"
    return None


def _candidates() -> list[str]:
    """Per region: its emergency numbers after its country code, alone and with digits after
    them (valid or not), and an ordinary number; plus the numbers of the invalid fixtures."""
    out = {"+1911", "+44999", "+49112", "+4911211", "+33112", "+3317", "+911", "+000"}
    for region in sorted(phonenumbers.SUPPORTED_SHORT_REGIONS):
        code = phonenumbers.country_code_for_region(region)
        metadata = phonenumbers.PhoneMetadata.short_metadata_for_region(region)
        desc = None if metadata is None else metadata.emergency
        example = phonenumbers.example_number(region)
        if example is not None:
            out.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
        if code and desc is not None and desc.example_number:
            short = desc.example_number
            out.update(f"+{code}{short}{tail}" for tail in ("", "0", "5550100", "12345678"))
    return sorted(out)


def test_the_emergency_fast_path_gives_phonenumbers_answer_for_every_region() -> None:
    candidates = _candidates()
    found = {n: numbers.emergency(n) for n in candidates}
    assert found == {n: _emergency_region_by_region(n) for n in candidates}
    assert sum(1 for answer in found.values() if answer) > 100  # the cases that matter occur


def test_validity_is_phonenumbers_is_valid_number_for_every_region() -> None:
    """``numbers.kind`` answers validity without a second look-up; it must be the library's."""
    candidates = _candidates()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                candidates += [e164, e164[:-1], e164 + "9", e164[:3] + "0" + e164[3:]]
    for number in candidates:
        found = numbers.parsed(number)
        expected = found is not None and phonenumbers.is_valid_number(found)
        assert numbers._valid(number) == expected, number
    assert sum(map(numbers._valid, candidates)) > 300


def test_text_is_read_value_by_value_unless_no_value_can_hold_a_forbidden_character() -> None:
    from infra.lines.source import _cannot_hold_forbidden
    from infra.lines.text import FORBIDDEN

    for code in range(128):
        char = chr(code)
        harmless = FORBIDDEN.search(char) is None and char != "\\"
        assert _cannot_hold_forbidden(f"a: b{char}c\n") == harmless, hex(code)
    assert not _cannot_hold_forbidden("greeting: caf\u00e9\n")  # not ASCII: look at each value
    assert not _cannot_hold_forbidden('greeting: "\\u0007"\n')  # an escape writes one


@pytest.mark.parametrize(
    "text",
    [
        'version: 1\nname: "bell \\a here"\n',
        "version: 1\nname: 'tab\there'\nkeys: {'\\x': 1}\n",
        'version: 1\n"k\\u0001": v\nlist: ["\\x7f", ok, "\\uFFFE"]\n',
    ],
)
def test_escaped_forbidden_characters_are_still_reported(text: str) -> None:
    from infra.lines.source import parse_document

    document, problems = parse_document(text.encode(), "x.yaml")
    escaped = (
        text.count("\\a") + text.count("\\u0001") + text.count("\\x7f") + text.count("\\uFFFE")
    )
    assert len([p for p in problems if "TwiML (XML) cannot carry" in p.message]) == escaped


def test_only_the_space_is_both_whitespace_and_printable() -> None:
    """What lets ``urls.problem`` skip its per-character loop for a clean URL."""
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c.isprintable()] == [
        " "
    ]


HOSTS = [
    "voice.example.com", "cafe.ad", "bad.cab", "1.2.3.4", "10.0.0.1", "127.0.0.1", "::1",
    "fe80::1", "fe80::1%eth0", "2001:db8::1", "::ffff:10.0.0.1", "1.2.3", "999.1.1.1",
    "1.2.3.4.5", "abc", "a:b", "", ".", "::", "dead:beef::", "DEAD::BEEF", "0x7f.1",
    "\u0661.\u0662.\u0663.\u0664", "ff", "1.2.3.04",
]  # fmt: skip


@pytest.mark.parametrize("netloc_of", [lambda h: h, lambda h: f"[{h}]"])
def test_host_addresses_are_read_as_ipaddress_reads_them(netloc_of: object) -> None:
    import ipaddress

    from infra.lines import urls

    def reference(host: str, netloc: str) -> object:
        try:
            return ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            if "[" in netloc:
                return "has a bracketed host that is not an IPv6 address"
        if host.replace(".", "").isdigit():
            return "has a numeric host that is not a valid IPv4 address"
        return None

    for host in HOSTS:
        netloc = netloc_of(host)  # type: ignore[operator]
        assert urls._address(host, netloc) == reference(host, netloc), host


def test_messages_escape_what_they_escaped_before() -> None:
    from infra.lines import text

    unshowable = re.compile(text._UNSHOWABLE)
    samples = ["plain", "tab\there", "nl\n", "\x7f", "caf\u00e9", "zw\u200bsp", "bidi\u202e", " "]
    samples += [chr(c) for c in range(0x250)]
    for sample in samples:
        reference = unshowable.sub(lambda m: f"\\u{ord(m.group()):04x}", sample)
        assert text.one_line(sample) == reference, repr(sample)
