"""LineLedger's safety brake and renames (``renamed_from``): pure, no provider host needed."""

from __future__ import annotations

from typing import Any

from infra.naming import number_batch
from infra.providers.line_ledger import LineLedgerProvider

BEFORE = {"account": "acme", "routes": {"sales": "2:aaaa", "fay": "2:bbbb"}}


def check(news: dict[str, Any]) -> list[str]:
    result = LineLedgerProvider().check(BEFORE, {"account": "acme", **news})
    return [f.reason for f in result.failures or []]


def test_a_declared_rename_is_not_a_removal() -> None:
    routes = {"sales-desk": "2:aaaa", "fay": "2:bbbb"}
    renamed = {"renamed": {"sales-desk": ["sales"]}, "homes": {"sales-desk": "sales"}}
    assert check({"routes": routes, **renamed}) == []


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
        {
            "account": "acme",
            "routes": after,
            "renamed": {"l0-new": ["l0"]},
            "homes": {"l0-new": "l0"},
        },
    )
    (failure,) = result.failures or []
    assert "4 of 10 lines (40%) change their failover" in failure.reason


def test_dropping_the_oldest_id_from_renamed_from_is_refused_whatever_the_switches() -> None:
    # sales became desk earlier (its record is in the batch of "sales"); now desk → front
    # names only desk, which would move the number's record to another batch.
    olds = {
        "account": "acme",
        "routes": {"desk": "2:aaaa"},
        "renamed": {"desk": ["sales"]},
        "homes": {"desk": "sales"},
    }
    assert number_batch("desk") != number_batch("sales")
    news = {
        "account": "acme",
        "routes": {"front": "2:aaaa"},
        "renamed": {"front": ["desk"]},
        "homes": {"front": "desk"},
        "allow_removals": True,
        "force": True,
    }
    (failure,) = LineLedgerProvider().check(olds, news).failures or []
    assert failure.property == "renamed"
    assert failure.reason.startswith(
        "front: its number's record is kept under its first id 'sales'"
    )
    assert "`renamed_from: [sales, ...]`" in failure.reason
    good = {**news, "renamed": {"front": ["sales", "desk"]}, "homes": {"front": "sales"}}
    assert LineLedgerProvider().check(olds, good).failures == []


def test_removing_renamed_from_after_the_rename_is_refused_too() -> None:
    olds = {"account": "acme", "routes": {"desk": "2:aaaa"}, "homes": {"desk": "sales"}}
    (failure,) = (
        LineLedgerProvider().check(olds, {"account": "acme", "routes": {"desk": "2:aaaa"}}).failures
        or []
    )
    assert "desk: its number's record is kept under its first id 'sales'" in failure.reason
    kept = {"account": "acme", "routes": {"desk": "2:aaaa"}, "homes": {"desk": "sales"}}
    assert LineLedgerProvider().check(olds, kept).failures == []
