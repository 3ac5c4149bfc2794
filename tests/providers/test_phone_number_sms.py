"""The SMS fallback of a batch's lines (``sms``), through Pulumi's real provider host against the
double: owned only while the line declares it, restored when it goes, refused (21406) on a number
without an SMS URL, never touching a line without ``sms``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.host import HostError, ProviderHost
from tests.providers.test_phone_number_batch import DOC, NUMBERS, batch, line, live

REPLY = "https://acme-failover-dev-1234-shared.twil.io/s/0123456789ab.xml"
SERVER = "https://sms-backup.acme.example/in"
OLD_SMS = "https://old-sms.example/{}"


def seed(double: Any, *names: str, sms_url: bool = True) -> None:
    for name in names:
        double.seed_number(
            NUMBERS[name], voice_url=f"https://voice.acme.example/{name}",
            sms_url=f"https://sms.acme.example/{name}" if sms_url else "",
            sms_fallback_url=OLD_SMS.format(name), sms_fallback_method="POST",
        )  # fmt: skip


def sms_line(name: str, url: str = REPLY, method: str = "GET") -> dict[str, Any]:
    return line(name, sms_fallback_url=url, sms_fallback_method=method)


def test_sms_fallback_is_adopted_set_and_restored_when_sms_goes(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales", "main")
    res = batch(host)
    outs = res.create({"lines": {"sales": sms_line("sales"), "main": line("main")}})
    sales, main = live(double, NUMBERS["sales"]), live(double, NUMBERS["main"])
    assert (sales["sms_fallback_url"], sales["sms_fallback_method"]) == (REPLY, "GET")
    assert sales["sms_url"] == "https://sms.acme.example/sales"  # never ours
    assert outs["lines"]["sales"]["adopted"]["sms_fallback_url"] == OLD_SMS.format("sales")
    # A line without `sms` keeps its SMS settings and has none of them in state.
    assert main["sms_fallback_url"] == OLD_SMS.format("main")
    assert not any(key.startswith("sms_") for key in outs["lines"]["main"])
    assert not any(key.startswith("sms_") for key in outs["lines"]["main"]["adopted"])
    wanted = {"lines": {"sales": sms_line("sales"), "main": line("main")}}
    assert res.diff(wanted)["changes"] == "DIFF_NONE"

    # A console edit of the SMS fallback is drift the next run repairs.
    double.edit_number(NUMBERS["sales"], sms_fallback_url="https://console.example/sms")
    res.refresh()
    assert res.diff(wanted)["changes"] == "DIFF_SOME"
    res.update(wanted)
    assert live(double, NUMBERS["sales"])["sms_fallback_url"] == REPLY

    # Switching to a secondary server with POST.
    res.update({"lines": {"sales": sms_line("sales", SERVER, "POST"), "main": line("main")}})
    sales = live(double, NUMBERS["sales"])
    assert (sales["sms_fallback_url"], sales["sms_fallback_method"]) == (SERVER, "POST")

    # `sms` removed from the line: the SMS fallback found at adoption comes back; voice stays ours.
    outs = res.update({"lines": {"sales": line("sales"), "main": line("main")}})
    sales = live(double, NUMBERS["sales"])
    assert (sales["sms_fallback_url"], sales["sms_fallback_method"]) == (
        OLD_SMS.format("sales"),
        "POST",
    )
    assert sales["voice_fallback_url"] == DOC.format("sales")
    assert "sms_fallback_url" not in outs["lines"]["sales"]["adopted"]
    assert double.deletes_of_numbers() == []


def test_sms_added_later_then_the_line_removed_restores_both(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales")
    res = batch(host)
    res.create({"lines": {"sales": line("sales")}})
    res.update({"lines": {"sales": sms_line("sales")}})
    assert live(double, NUMBERS["sales"])["sms_fallback_url"] == REPLY
    res.delete()
    sales = live(double, NUMBERS["sales"])
    assert sales["sms_fallback_url"] == OLD_SMS.format("sales")
    assert sales["voice_fallback_url"] == "" or sales["voice_fallback_url"] is None
    assert double.deletes_of_numbers() == []


def test_sms_on_a_number_without_sms_url_is_refused_with_21406_and_nothing_changes(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales", sms_url=False)
    res = batch(host)
    with pytest.raises(HostError, match=r"has no SMS URL .* error 21406") as info:
        res.create({"lines": {"sales": sms_line("sales")}})
    assert "Set the number's SMS URL" in str(info.value)
    sales = live(double, NUMBERS["sales"])
    assert sales["sms_fallback_url"] == OLD_SMS.format("sales")
    assert sales["voice_fallback_url"] is None  # the adoption was not half-done
    assert double.writes()["IncomingPhoneNumber.update"] == 0


def test_sms_on_a_number_with_an_sms_application_is_refused(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales")
    double.edit_number(NUMBERS["sales"], sms_application_sid="AP" + "0" * 32)
    with pytest.raises(HostError, match="Twilio uses the application's SMS fallback"):
        batch(host).create({"lines": {"sales": sms_line("sales")}})


def test_an_interrupted_first_run_that_left_our_sms_entry_clears_it_on_removal(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales")
    double.edit_number(NUMBERS["sales"], sms_fallback_url=REPLY, sms_fallback_method="GET")
    res = batch(host)
    res.create({"lines": {"sales": sms_line("sales")}})
    res.update({"lines": {"sales": line("sales")}})
    assert live(double, NUMBERS["sales"])["sms_fallback_url"] == ""


def test_failover_url_method_get_sets_the_voice_fallback_method(
    double: Any, host: ProviderHost
) -> None:
    seed(double, "sales")
    res = batch(host)
    res.create({"lines": {"sales": line("sales", fallback_url=SERVER, fallback_method="GET")}})
    sales = live(double, NUMBERS["sales"])
    assert (sales["voice_fallback_url"], sales["voice_fallback_method"]) == (SERVER, "GET")
    res.update({"lines": {"sales": line("sales", fallback_url=SERVER, fallback_method="POST")}})
    assert live(double, NUMBERS["sales"])["voice_fallback_method"] == "POST"


def test_a_bad_sms_method_is_a_check_failure(host: ProviderHost) -> None:
    _, failures = batch(host).check({"lines": {"sales": sms_line("sales", method="PUT")}})
    assert failures == [("lines", "sales: sms_fallback_method: must be GET or POST, got 'PUT'")]
