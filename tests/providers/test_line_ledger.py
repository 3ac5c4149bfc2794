"""LineLedger's safety brake and renames (``renamed_from``): pure, no provider host needed."""

from __future__ import annotations

from typing import Any

from infra.providers.line_ledger import LineLedgerProvider

BEFORE = {"account": "acme", "routes": {"sales": "2:aaaa", "fay": "2:bbbb"}}


def check(news: dict[str, Any]) -> list[str]:
    result = LineLedgerProvider().check(BEFORE, {"account": "acme", **news})
    return [f.reason for f in result.failures or []]


def test_a_declared_rename_is_not_a_removal() -> None:
    routes = {"sales-desk": "2:aaaa", "fay": "2:bbbb"}
    assert check({"routes": routes, "renamed": {"sales-desk": ["sales"]}}) == []


def test_the_same_change_without_renamed_from_is_a_removal_with_a_hint() -> None:
    removal, hint = check({"routes": {"sales-desk": "2:aaaa", "fay": "2:bbbb"}})
    assert removal.startswith("safety brake: 1 line(s) removed (sales)")
    assert hint == (
        "safety brake: sales-desk looks like a rename of sales (same number and failover): add "
        "`renamed_from: [sales]` to sales-desk in lines.yaml so its number is updated in place "
        "instead of restored and adopted again"
    )


def test_a_rename_naming_an_id_that_stays_carries_nothing() -> None:
    routes = {"sales": "2:aaaa", "sales-desk": "2:aaaa"}  # fay removed, sales kept
    (reason,) = check({"routes": routes, "renamed": {"sales-desk": ["sales"]}})
    assert "removed (fay)" in reason


def test_a_renamed_line_whose_route_changes_counts_as_rerouted() -> None:
    before = {f"l{i}": "2:same" for i in range(10)}
    after = {**{f"l{i}": "2:same" for i in range(1, 10)}, "l0-new": "2:other"}
    for moved in range(1, 4):  # 4 of 10 rerouted: over the 30% limit
        after[f"l{moved}"] = "2:other"
    result = LineLedgerProvider().check(
        {"account": "acme", "routes": before},
        {"account": "acme", "routes": after, "renamed": {"l0-new": ["l0"]}},
    )
    (failure,) = result.failures or []
    assert "4 of 10 lines (40%) change their failover" in failure.reason
