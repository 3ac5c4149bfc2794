"""PhoneNumberFailover through Pulumi's real provider host, against the Twilio double."""

from __future__ import annotations

from typing import Any

import pytest

from infra.providers.phone_number import PhoneNumberFailoverProvider
from tests.harness.host import UNKNOWN, HostError, ProviderHost
from tests.harness.support import Driven, start_host

E164 = "+14155550101"
PRIMARY = "https://voice.acme.example/sales"
FLOW_URL = "https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1"
ASSET_URL = "https://acme-dev-failover-1234-failover.twil.io/lines/sales/voicemail.xml"


def number(host: ProviderHost) -> Driven:
    return Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "sales")


def args(**overrides: Any) -> dict[str, Any]:
    return {"line": "sales", "phone_number": E164, "fallback_url": FLOW_URL, **overrides}


def live(double: Any, e164: str = E164) -> dict[str, Any]:
    return next(n for n in double.state.numbers.values() if n["phone_number"] == e164)


def test_lifecycle_adopts_updates_shows_drift_and_restores(double: Any, host: ProviderHost) -> None:
    seeded = double.seed_number(
        E164, voice_url=PRIMARY, voice_fallback_url="https://old.example/fb"
    )
    res = number(host)
    outs = res.create(args())
    assert res.id == seeded["sid"] and outs["voice_fallback_url"] == FLOW_URL
    assert outs["adopted"] == {
        "voice_fallback_url": "https://old.example/fb",
        "voice_fallback_method": "POST",
    }
    assert res.diff(args())["changes"] == "DIFF_NONE"

    changed = args(fallback_url=ASSET_URL, fallback_method="get")
    assert res.diff(changed)["changes"] == "DIFF_SOME"
    outs = res.update(changed)
    assert (outs["voice_fallback_url"], outs["voice_fallback_method"]) == (ASSET_URL, "GET")
    assert outs["adopted"]["voice_fallback_url"] == "https://old.example/fb"  # kept

    double.edit_number(E164, voice_fallback_url="https://console.example/edit")
    assert res.refresh()["voice_fallback_url"] == "https://console.example/edit"
    assert res.diff(changed)["changes"] == "DIFF_SOME"  # the next up repairs the drift

    res.update(changed)  # repaired: ours again
    res.delete()
    after = live(double)
    assert (after["voice_fallback_url"], after["voice_fallback_method"]) == (
        "https://old.example/fb",
        "POST",
    )
    assert after["voice_url"] == PRIMARY  # never managed, never touched
    assert double.writes() == {"IncomingPhoneNumber.update": 4}
    assert double.deletes_of_numbers() == []


def test_delete_leaves_a_value_changed_since_in_the_console(
    double: Any, host: ProviderHost
) -> None:
    double.seed_number(E164, voice_url=PRIMARY, voice_fallback_url="https://old.example/fb")
    res = number(host)
    res.create(args())
    double.edit_number(E164, voice_fallback_url="https://console.example/edit")
    res.refresh()
    res.delete()
    assert live(double)["voice_fallback_url"] == "https://console.example/edit"
    assert double.writes() == {"IncomingPhoneNumber.update": 1}  # the adoption only


def test_declared_primary_and_test_mode_are_managed_then_restored(
    double: Any, host: ProviderHost
) -> None:
    double.seed_number(E164, voice_url="https://old.example/voice", voice_method="GET")
    res = number(host)
    outs = res.create(args(primary_url=PRIMARY))
    assert (outs["voice_url"], outs["voice_method"]) == (PRIMARY, "POST")
    assert outs["adopted"]["voice_url"] == "https://old.example/voice"

    outs = res.update(
        args(primary_url=PRIMARY, test_mode=True, fallback_url=ASSET_URL, fallback_method="GET")
    )
    assert (outs["voice_url"], outs["voice_method"]) == (ASSET_URL, "GET")  # primary -> failover
    outs = res.update(args(primary_url=PRIMARY, fallback_url=ASSET_URL, fallback_method="GET"))
    assert (outs["voice_url"], outs["voice_method"]) == (PRIMARY, "POST")  # test mode over

    outs = res.update(args(fallback_url=ASSET_URL, fallback_method="GET"))  # primary dropped
    assert (outs["voice_url"], outs["voice_method"]) == ("https://old.example/voice", "GET")
    assert "voice_url" not in outs["adopted"]
    res.delete()
    assert (live(double)["voice_url"], live(double)["voice_fallback_url"]) == (
        "https://old.example/voice",
        "",
    )


def test_test_mode_without_primary_restores_the_adopted_voice_url(
    double: Any, host: ProviderHost
) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    res = number(host)
    assert res.create(args(test_mode=True))["voice_url"] == FLOW_URL
    assert res.update(args())["voice_url"] == PRIMARY
    assert res.diff(args())["changes"] == "DIFF_NONE"


def test_delete_in_test_mode_restores_the_primary(double: Any, host: ProviderHost) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    res = number(host)
    res.create(args(test_mode=True))
    res.delete()
    assert (live(double)["voice_url"], live(double)["voice_fallback_url"]) == (PRIMARY, "")


def test_number_missing_from_the_account_names_the_line(double: Any, host: ProviderHost) -> None:
    double.seed_number(E164, voice_url=PRIMARY)  # "+1415555010" partially matches it
    res = number(host)
    with pytest.raises(HostError) as info:
        res.create(args(phone_number="+1415555010"))
    assert "sales: number +1415555010 of line 'sales' is not in this Twilio account" in (
        info.value.details
    )
    assert "never buys" in info.value.details
    assert double.writes() == {}


@pytest.mark.parametrize(
    ("binding", "needle"),
    [
        ({"voice_application_sid": "AP" + "a" * 32}, "bound to TwiML Application AP"),
        ({"trunk_sid": "TK" + "b" * 32}, "bound to SIP Trunk TK"),
    ],
)
def test_refuses_numbers_bound_to_an_application_or_trunk(
    double: Any, host: ProviderHost, binding: dict[str, str], needle: str
) -> None:
    double.seed_number(E164, voice_url=PRIMARY, **binding)
    with pytest.raises(HostError) as info:
        number(host).create(args(primary_url=PRIMARY))
    assert f"sales: number {E164} is {needle}" in info.value.details
    assert double.writes() == {}


def test_refuses_a_number_without_voice_url_unless_a_primary_is_declared(
    double: Any, host: ProviderHost
) -> None:
    double.seed_number(E164)
    with pytest.raises(HostError) as info:
        number(host).create(args())
    assert "has no voice URL" in info.value.details and "21405" in info.value.details
    assert "https://www.twilio.com/docs/errors/21405" in info.value.details
    outs = number(host).create(args(primary_url=PRIMARY))
    assert (outs["voice_url"], outs["voice_fallback_url"]) == (PRIMARY, FLOW_URL)


def test_read_of_a_number_gone_from_the_account_drops_it(double: Any, host: ProviderHost) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    res = number(host)
    res.create(args())
    with double._lock:  # released by someone else, outside this tool
        del double.state.numbers[res.id]
    id_, outs, _ = host.read(res.urn, res.id, res.outputs, res.inputs)
    assert id_ == "" and set(outs) <= {"__provider"}
    res.delete()  # nothing left to restore: succeeds without a request that changes anything
    with pytest.raises(
        HostError, match="is no longer in this Twilio account; run `pulumi refresh`"
    ):
        res.update(args(fallback_url=ASSET_URL))


def test_check_reports_every_bad_input_and_accepts_preview_unknowns(
    double: Any, host: ProviderHost
) -> None:
    res = number(host)
    _, failures = res.check(
        {
            "line": "",
            "phone_number": "4155550101",
            "fallback_url": "flow",
            "fallback_method": "PUT",
            "test_mode": "yes",
            "typo": 1,
        }
    )
    assert sorted(p for p, _ in failures) == [
        "fallback_method",
        "fallback_url",
        "line",
        "phone_number",
        "test_mode",
        "typo",
    ]
    inputs, failures = res.check(args(fallback_url=UNKNOWN))
    assert failures == [] and inputs["fallback_method"] == "POST"
    assert double.requests == []


def test_diff_makes_no_api_call(double: Any, host: ProviderHost) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    res = number(host)
    res.create(args())
    seen = len(double.requests)
    assert res.diff(args())["changes"] == "DIFF_NONE"
    assert res.diff(args(fallback_url=UNKNOWN))["changes"] == "DIFF_SOME"
    assert res.diff(args(phone_number="+14155550102"))["replaces"] == ["phone_number"]
    assert res.diff(args(line="sales-renamed"))["changes"] == "DIFF_SOME"
    assert len(double.requests) == seen


def test_relabelling_the_line_updates_state_without_writing(
    double: Any, host: ProviderHost
) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    res = number(host)
    res.create(args())
    outs = res.update(args(line="sales-team"))
    assert outs["applied_inputs"]["line"] == "sales-team"
    assert double.writes() == {"IncomingPhoneNumber.update": 1}


def test_interrupted_adoption_never_restores_our_own_entry(double: Any, host: ProviderHost) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    double.faults.add(fail_nth_write=1, applied=True, reset=True)  # applied, answer lost
    res = number(host)
    with pytest.raises(HostError, match="could not reach Twilio"):
        res.create(args())
    assert live(double)["voice_fallback_url"] == FLOW_URL
    outs = res.create(args())  # the next run adopts again: it finds our own value
    assert outs["adopted"]["voice_fallback_url"] == FLOW_URL
    res.delete()
    assert live(double)["voice_fallback_url"] == ""  # cleared, not "restored" to ours


def test_429_bursts_and_5xx_on_reads_are_retried(double: Any, host: ProviderHost) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    burst = double.faults.add(status=429, retry_after=0.05, times=3, match="POST")
    flaky = double.faults.add(status=503, times=2, match="GET")
    outs = number(host).create(args())
    assert outs["voice_fallback_url"] == FLOW_URL
    assert (burst.fired, flaky.fired) == (3, 2)
    assert double.writes() == {"IncomingPhoneNumber.update": 1}


def test_5xx_on_a_write_is_not_retried_and_a_rerun_converges(
    double: Any, host: ProviderHost
) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    res = number(host)
    res.create(args())
    double.faults.add(status=500, times=1, match="POST")
    with pytest.raises(HostError) as info:
        res.update(args(fallback_url=ASSET_URL))
    assert "sales: update voice settings of +14155550101 failed" in info.value.details
    assert "HTTP 500, Twilio error 20500" in info.value.details
    assert res.update(args(fallback_url=ASSET_URL))["voice_fallback_url"] == ASSET_URL


def test_resets_and_timeouts_on_reads_are_retried(double: Any) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    reset = double.faults.add(reset=True, times=1, match="GET")
    slow = double.faults.add(hang=3.0, times=1, match="GET")
    host = start_host(double, **{"twilio:httpTimeout": 0.5})
    try:
        outs = number(host).create(args())
    finally:
        host.close()
    assert outs["voice_fallback_url"] == FLOW_URL and (reset.fired, slow.fired) == (1, 1)


def test_a_reset_write_fails_clearly_and_a_rerun_converges(double: Any, host: ProviderHost) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    double.faults.add(reset=True, times=1, match="POST")  # not applied: nothing changed
    res = number(host)
    with pytest.raises(HostError) as info:
        res.create(args())
    assert "sales: update voice settings of +14155550101 failed: could not reach Twilio" in (
        info.value.details
    )
    assert live(double)["voice_fallback_url"] is None
    assert res.create(args())["adopted"]["voice_fallback_url"] == ""


def test_dropping_the_primary_of_a_number_that_had_none_is_refused_before_writing(
    double: Any, host: ProviderHost
) -> None:
    double.seed_number(E164)  # no voice URL: the declared primary made the fallback possible
    res = number(host)
    res.create(args(primary_url=PRIMARY))
    writes = double.writes()
    with pytest.raises(HostError, match="has no voice URL .* error 21405"):
        res.update(args())
    assert double.writes() == writes
