"""PhoneNumberBatch through Pulumi's real provider host, against the Twilio double: each line
behaves like PhoneNumberFailover; a failure adopts nothing it cannot record."""

from __future__ import annotations

from typing import Any

import pytest

from infra.providers.phone_number_batch import PhoneNumberBatchProvider
from tests.harness.host import HostError, ProviderHost
from tests.harness.support import Driven

DOC = "https://acme-failover-dev-1234-fwd-01.twil.io/f/{}.xml"
NUMBERS = {"sales": "+14155550101", "main": "+14155550100", "fay": "+14155550107"}
OLD = "https://old.example/{}"


def batch(host: ProviderHost) -> Driven:
    return Driven(host, PhoneNumberBatchProvider(), "PhoneNumberBatch", "numbers-07")


def line(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "phone_number": NUMBERS[name],
        "fallback_url": DOC.format(name),
        "fallback_method": "GET",
        **overrides,
    }


def live(double: Any, e164: str) -> dict[str, Any]:
    return next(n for n in double.state.numbers.values() if n["phone_number"] == e164)


def seed(double: Any, *names: str) -> None:
    for name in names:
        double.seed_number(
            NUMBERS[name], voice_url=f"https://voice.acme.example/{name}",
            voice_fallback_url=OLD.format(name),
        )  # fmt: skip


def test_lifecycle_adopts_each_line_touches_only_changes_and_restores(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales", "main", "fay")
    res = batch(host)
    outs = res.create({"lines": {"sales": line("sales"), "main": line("main")}})
    assert set(outs["lines"]) == {"main", "sales"}
    assert outs["lines"]["sales"]["adopted"]["voice_fallback_url"] == OLD.format("sales")
    assert live(double, NUMBERS["sales"])["voice_fallback_url"] == DOC.format("sales")
    assert res.diff({"lines": {"sales": line("sales"), "main": line("main")}})["changes"] == (
        "DIFF_NONE"
    )
    before = sum(double.writes().values())

    # main leaves, fay arrives, sales is unchanged: one restore, one adoption, nothing else.
    outs = res.update({"lines": {"sales": line("sales"), "fay": line("fay")}})
    assert set(outs["lines"]) == {"fay", "sales"}
    assert live(double, NUMBERS["main"])["voice_fallback_url"] == OLD.format("main")
    assert live(double, NUMBERS["fay"])["voice_fallback_url"] == DOC.format("fay")
    assert sum(double.writes().values()) - before == 2

    double.edit_number(NUMBERS["sales"], voice_fallback_url="https://console.example/edit")
    assert res.refresh()["lines"]["sales"]["voice_fallback_url"] == "https://console.example/edit"
    assert (
        res.diff({"lines": {"sales": line("sales"), "fay": line("fay")}})["changes"] == "DIFF_SOME"
    )

    res.delete()
    # sales was edited in the console since: that value stays; fay's is still ours: restored
    assert live(double, NUMBERS["sales"])["voice_fallback_url"] == "https://console.example/edit"
    for name in ("sales", "fay", "main"):
        number = live(double, NUMBERS[name])
        if name != "sales":
            assert number["voice_fallback_url"] == OLD.format(name), name
        assert number["voice_url"] == f"https://voice.acme.example/{name}"  # never touched
    assert double.deletes_of_numbers() == []


def test_a_rename_carries_the_record_over_and_updates_the_number_in_place(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales", "main")
    res = batch(host)
    res.create({"lines": {"sales": line("sales"), "main": line("main")}})
    writes = sum(double.writes().values())
    renamed = {"lines": {"sales-desk": line("sales"), "main": line("main")}}
    renamed["lines"]["sales-desk"]["fallback_url"] = DOC.format("sales-desk")
    renamed["renamed"] = {"sales-desk": ["sales"]}
    assert res.diff(renamed)["changes"] == "DIFF_SOME"
    outs = res.update(renamed)
    assert set(outs["lines"]) == {"main", "sales-desk"}
    desk = outs["lines"]["sales-desk"]
    # the values found at adoption moved with the line: never re-adopted from our own URL
    assert desk["adopted"]["voice_fallback_url"] == OLD.format("sales")
    assert desk["applied_inputs"]["line"] == "sales-desk"
    assert live(double, NUMBERS["sales"])["voice_fallback_url"] == DOC.format("sales-desk")
    assert sum(double.writes().values()) - writes == 1  # one update of the number, no restore
    res.delete()
    assert live(double, NUMBERS["sales"])["voice_fallback_url"] == OLD.format("sales")


def test_a_rename_naming_an_id_this_batch_never_held_is_an_adoption(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales")
    res = batch(host)
    outs = res.create({"lines": {"desk": line("sales")}, "renamed": {"desk": ["nobody"]}})
    assert outs["lines"]["desk"]["adopted"]["voice_fallback_url"] == OLD.format("sales")


def test_a_removal_keeps_what_the_console_set_and_says_so(double: Any, host: ProviderHost) -> None:
    seed(double, "sales", "main")
    res = batch(host)
    res.create({"lines": {"sales": line("sales"), "main": line("main")}})
    double.edit_number(NUMBERS["sales"], voice_fallback_url="https://console.example/edit")
    res.refresh()  # a refresh copies the console's value into the outputs: still not ours
    outs = res.update({"lines": {"main": line("main")}})
    assert live(double, NUMBERS["sales"])["voice_fallback_url"] == "https://console.example/edit"
    assert live(double, NUMBERS["sales"])["voice_fallback_method"] == "GET"  # with its URL
    (said,) = outs["left_alone"]["sales"][:1]
    assert "voice_fallback_url left as it is now ('https://console.example/edit')" in said
    assert set(outs["left_alone"]) == {"sales"}
    assert double.deletes_of_numbers() == []


def test_a_failed_line_fails_the_batch_and_undoes_this_runs_adoptions(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales", "main")  # fay's number is not in the account
    res = batch(host)
    with pytest.raises(HostError) as caught:
        res.create({"lines": {n: line(n) for n in ("sales", "main", "fay")}})
    assert "fay" in str(caught.value) and "not in this Twilio account" in str(caught.value)
    for name in ("sales", "main"):  # adopted then restored: nothing unrecorded points at us
        assert live(double, NUMBERS[name])["voice_fallback_url"] == OLD.format(name), name
    assert double.deletes_of_numbers() == []


def test_lines_are_checked_one_by_one_with_the_line_named(host: ProviderHost) -> None:
    res = batch(host)
    _, failures = res.check(
        {"lines": {"sales": line("sales", phone_number="555"), "main": line("main")}}
    )
    assert failures == [("lines", "sales: phone_number: must be E.164 (+ and digits), got '555'")]


def test_what_a_removal_says_never_holds_credentials_from_a_console_url(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales", "main")
    res = batch(host)
    res.create({"lines": {"sales": line("sales"), "main": line("main")}})
    double.edit_number(NUMBERS["sales"], voice_fallback_url="https://ops:hunter2@pbx.example/fb")
    outs = res.update({"lines": {"main": line("main")}})
    said = " ".join(outs["left_alone"]["sales"])
    assert "'https://***@pbx.example/fb'" in said and "hunter2" not in said
    assert (
        live(double, NUMBERS["sales"])["voice_fallback_url"] == "https://ops:hunter2@pbx.example/fb"
    )
