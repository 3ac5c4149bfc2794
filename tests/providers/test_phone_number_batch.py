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
    for name in ("sales", "fay", "main"):
        number = live(double, NUMBERS[name])
        assert number["voice_fallback_url"] == OLD.format(name), name
        assert number["voice_url"] == f"https://voice.acme.example/{name}"  # never touched
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
