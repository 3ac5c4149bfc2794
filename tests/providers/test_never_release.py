"""No code in infra/ can release (DELETE) an incoming phone number.

Release is effectively irreversible (twilio.md §2.6). This scans the source rather than
trusting a run: any ``.delete(`` whose receiver mentions incoming phone numbers, and any raw
DELETE aimed at IncomingPhoneNumbers, fails the suite. The run-time half of the guarantee
(zero such requests reach the double) is asserted once for the whole provider suite in
``tests/providers/conftest.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

INFRA = Path(__file__).resolve().parents[2] / "infra"
NUMBERS = re.compile(r"incoming_?phone_?numbers?", re.IGNORECASE)


def _sources() -> list[Path]:
    files = sorted(INFRA.rglob("*.py"))
    assert any(p.name == "phone_number.py" for p in files)
    return files


def test_no_delete_call_on_incoming_phone_numbers_in_infra() -> None:
    offenders = []
    for path in _sources():
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and (node.func.attr in ("delete", "delete_async", "delete_with_http_info"))
            ):
                receiver = ast.get_source_segment(source, node.func.value) or ""
                if NUMBERS.search(receiver) or "number" in receiver.lower():
                    offenders.append(f"{path.relative_to(INFRA.parent)}:{node.lineno}")
    assert offenders == []


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_no_raw_delete_request_on_incoming_phone_numbers_in_infra() -> None:
    """No raw HTTP call with method DELETE, and no hand-built IncomingPhoneNumbers URL."""
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(INFRA.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                values = [*node.args, *(k.value for k in node.keywords)]
                if any(
                    isinstance(v, ast.Constant) and str(v.value).upper() == "DELETE" for v in values
                ):
                    offenders.append(f"{where}: raw DELETE request")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and "IncomingPhoneNumbers" in node.value
            ):
                offenders.append(f"{where}: hand-built numbers URL")
    assert offenders == []
