"""Fuzzing the loader: every input ends as a model or as positioned diagnostics, never a crash.

CI runs a small budget; ``FUZZ_PROFILE=long script/test tests/test_load_fuzz.py`` runs a
longer search (thousands of examples per property).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.errors import ConfigError
from infra.lines.load import load_bytes
from infra.model import LinesConfig

ROOT = Path(__file__).resolve().parent.parent
EDITOR_LINE_BREAKS = re.compile(rb"\r\n|\r|\n")
"""What editors count as line breaks (not U+2028, U+2029 or U+0085)."""
SECRET = "s3cr3t-in-url"
SHIPPED = (ROOT / "lines.yaml").read_bytes()

settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = settings.get_profile(os.environ.get("FUZZ_PROFILE", "ci"))


def assert_model_or_diagnostics(raw: bytes) -> None:
    """The property every test here checks."""
    total_lines = len(EDITOR_LINE_BREAKS.findall(raw)) + 2
    try:
        config, warnings = load_bytes(raw, "fuzz.yaml")
    except ConfigError as exc:
        assert exc.diagnostics, "a ConfigError always carries at least one diagnostic"
        for diagnostic in exc.diagnostics:
            assert diagnostic.where.file == "fuzz.yaml"
            assert 1 <= diagnostic.where.line <= total_lines, str(diagnostic)
            assert diagnostic.where.column >= 1
            assert diagnostic.message and "Traceback" not in diagnostic.message
            assert "\n" not in str(diagnostic) and "\r" not in str(diagnostic), "one line each"
            assert SECRET not in str(diagnostic)
        assert any(d.is_error for d in exc.diagnostics)
        return
    assert isinstance(config, LinesConfig)
    assert all(not w.is_error for w in warnings)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=40,
)


@PROFILE
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    assert_model_or_diagnostics(raw)


@PROFILE
@given(st.text(max_size=2000))
def test_random_unicode_text(text: str) -> None:
    assert_model_or_diagnostics(text.encode("utf-8", "surrogatepass"))


@PROFILE
@given(json_values)
def test_random_yaml_documents(value: object) -> None:
    assert_model_or_diagnostics(yaml.safe_dump(value, allow_unicode=True).encode())


@PROFILE
@given(
    st.fixed_dictionaries(
        {
            "version": st.sampled_from([1, 2, "1", None]),
            "account": st.fixed_dictionaries({"name": st.sampled_from(["acme", "A", "", 7])}),
            "lines": st.lists(
                st.fixed_dictionaries(
                    {
                        "id": st.sampled_from(["main", "sales", "main", "X y", 3]),
                        "type": st.sampled_from(
                            ["main_line", "department", "contact_center", "user", "other"]
                        ),
                        "number": st.sampled_from(
                            ["+14155550100", "+14155550101", "+1415", 14155550100, "+19005550100"]
                        ),
                    },
                    optional={
                        "failover": json_values
                        | st.fixed_dictionaries(
                            {},
                            optional={
                                "forward": st.sampled_from(
                                    ["+14155550199", "+14155550100", "+19005550100"]
                                ),
                                "url": st.sampled_from(["https://x.example/a", "http://x", ""]),
                                "message": st.text(max_size=20),
                                "timeout": st.integers(-5, 700),
                            },
                        ),
                        "forwarding": st.lists(
                            st.sampled_from(["+14155550120", "+14155550121", "+14155550100"]),
                            max_size=7,
                        ),
                        "queue": st.fixed_dictionaries(
                            {"agents": st.lists(st.sampled_from(["alice", "zed"]), max_size=3)}
                        ),
                        "test": st.booleans(),
                        "primary": st.sampled_from(["https://voice.example/a", "ftp://x"]),
                    },
                ),
                max_size=6,
            ),
        },
        optional={
            "agents": st.lists(
                st.fixed_dictionaries(
                    {
                        "id": st.sampled_from(["alice", "bob"]),
                        "name": st.just("A"),
                        "phone": st.sampled_from(["+14155550111", "+14155550100"]),
                    }
                ),
                max_size=3,
            )
        },
    )
)
def test_structured_near_valid_documents(document: dict[str, object]) -> None:
    assert_model_or_diagnostics(yaml.safe_dump(document).encode())


@PROFILE
@given(st.data())
def test_mutated_shipped_file(data: st.DataObject) -> None:
    raw = bytearray(SHIPPED)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["delete", "insert", "duplicate-line"]))
        if action == "delete":
            del raw[at : at + data.draw(st.integers(1, 40))]
        elif action == "insert":
            raw[at:at] = data.draw(
                st.sampled_from(
                    [
                        b":",
                        b"- ",
                        b"  ",
                        b"\t",
                        b"&a ",
                        b"*a",
                        b"{",
                        b'"',
                        b"\n",
                        b"\xff",
                        b"!!binary ",
                    ]
                )
            )
        else:
            start = raw.rfind(b"\n", 0, at) + 1
            end = raw.find(b"\n", at)
            end = len(raw) if end < 0 else end + 1
            raw[start:start] = raw[start:end]
    assert_model_or_diagnostics(bytes(raw))


HOSTILE = [
    "\u2028",
    "\u2029",
    "\x85",
    "\u200b",
    "\ufeff",
    "\r",
    "\t",
    "\uff10",
    "030",
    "120.0",
    "no",
    "2024-01-01",
    "*x",
    "&x ",
    "- *x\n",
    '"\\x07"',
    '"\\uFFFE"',
    '"\\n"',
    "https://u:" + SECRET + "@h.example/",
    "https://localhost:0/",
    "+4402012345678",
    "+19110000",
    "\n  - {id: main, type: user, number: +14155550100}\n",
]


@PROFILE
@given(st.data())
def test_shipped_file_with_hostile_text(data: st.DataObject) -> None:
    """Issue 19's classes, inserted anywhere: still a model or one-line positioned errors."""
    text = SHIPPED.decode("utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.sampled_from(HOSTILE)) + text[at:]
    assert_model_or_diagnostics(text.encode("utf-8"))


def test_huge_scalar_and_deep_nesting_and_wide_mapping() -> None:
    assert_model_or_diagnostics(
        b"version: 1\naccount: {name: acme}\nlines: [" + b"x" * 2_000_000 + b"]\n"
    )
    assert_model_or_diagnostics(b"[" * 5000 + b"]" * 5000)
    assert_model_or_diagnostics(b"{" * 5000 + b"}" * 5000)
    assert_model_or_diagnostics(b"- " * 3000 + b"x\n")
    wide = b"".join(b"k%d: v\n" % i for i in range(50_000))
    assert_model_or_diagnostics(wide)
