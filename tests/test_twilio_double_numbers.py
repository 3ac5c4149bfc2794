"""The Twilio double's IncomingPhoneNumbers, driven through the official twilio library."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.base.exceptions import TwilioRestException

from tests.twilio_double import TwilioDouble

FALLBACK = "https://webhooks.twilio.com/v1/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Flows/FWbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


def numbers_api(client):  # type: ignore[no-untyped-def]
    return client.api.v2010.account.incoming_phone_numbers


def test_list_follows_pages_through_the_library(twilio_double: TwilioDouble, twilio_client) -> None:
    twilio_double.seed_numbers(f"+1415555{i:04d}" for i in range(2500))

    listed = numbers_api(twilio_client).list(page_size=1000)

    assert len({n.sid for n in listed}) == 2500
    gets = [r for r in twilio_double.requests if r.method == "GET"]
    assert len(gets) == 3
    assert gets[1].query["PageToken"][0].startswith("PA")
    assert gets[2].response_body["next_page_uri"] is None
    first = gets[0].response_body
    assert first["next_page_uri"].startswith(f"/2010-04-01/Accounts/{twilio_double.account_sid}/")
    assert (first["start"], first["end"], first["page_size"]) == (0, 999, 1000)


@settings(max_examples=12, deadline=None)
@given(count=st.integers(0, 30), page_size=st.integers(1, 8))
def test_paging_returns_every_number_once_in_order(
    twilio_spec_dir: Path, count: int, page_size: int
) -> None:
    with TwilioDouble(spec_dir=twilio_spec_dir) as double:
        seeded = [n["sid"] for n in double.seed_numbers(f"+1415555{i:04d}" for i in range(count))]

        listed = numbers_api(double.client(timeout=5)).list(page_size=page_size)

        assert [n.sid for n in listed] == seeded
        assert len(double.requests) == max(1, -(-count // page_size))
        assert not double.violations


def test_previous_page_link_leads_back(twilio_double: TwilioDouble, twilio_client) -> None:
    twilio_double.seed_numbers(f"+1415555{i:04d}" for i in range(5))
    first = numbers_api(twilio_client).page(page_size=2)

    back = first.next_page().previous_page()

    assert [n.phone_number for n in back] == ["+14155550000", "+14155550001"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("+14155550101", ["+14155550101"]),
        ("555010", ["+14155550100", "+14155550101"]),
        ("0*0*", ["+14155550100", "+14155550101", "+442079460000"]),
        ("+44", ["+442079460000"]),
    ],
)
def test_phone_number_filter_is_a_partial_match_with_digit_wildcard(
    twilio_double: TwilioDouble, twilio_client, pattern: str, expected: list[str]
) -> None:
    twilio_double.seed_numbers(["+14155550100", "+14155550101", "+442079460000", "+13125551234"])

    listed = numbers_api(twilio_client).list(phone_number=pattern)

    assert sorted(n.phone_number for n in listed) == expected


def test_friendly_name_filter_and_default_friendly_name(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    twilio_double.seed_number("+14155550100")
    twilio_double.seed_number("+14155550101", friendly_name="Sales")

    assert [n.phone_number for n in numbers_api(twilio_client).list(friendly_name="Sales")] == [
        "+14155550101"
    ]
    assert (
        numbers_api(twilio_client).list(friendly_name="(415) 555-0100")[0].phone_number
        == "+14155550100"
    )


def test_unset_fields_are_null_or_empty_as_in_the_spec_example(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    sid = twilio_double.seed_number("+14155550100", voice_url="https://voice.example.com/a")["sid"]

    numbers_api(twilio_client)(sid).fetch()

    body = twilio_double.requests[-1].response_body
    assert (body["voice_fallback_url"], body["trunk_sid"]) == (None, None)
    assert (body["voice_application_sid"], body["status_callback"], body["sms_url"]) == ("", "", "")
    assert body["voice_url"] == "https://voice.example.com/a"
    assert (
        body["uri"]
        == f"/2010-04-01/Accounts/{twilio_double.account_sid}/IncomingPhoneNumbers/{sid}.json"
    )


def test_fallback_update_is_partial_and_counted(twilio_double: TwilioDouble, twilio_client) -> None:
    sid = twilio_double.seed_number("+14155550100", voice_url="https://voice.example.com/a")["sid"]

    updated = numbers_api(twilio_client)(sid).update(
        voice_fallback_url=FALLBACK, voice_fallback_method="POST"
    )

    assert updated.voice_fallback_url == FALLBACK
    assert updated.voice_url == "https://voice.example.com/a"
    assert twilio_double.requests[-1].form == {
        "VoiceFallbackUrl": [FALLBACK],
        "VoiceFallbackMethod": ["POST"],
    }
    assert twilio_double.writes() == {"IncomingPhoneNumber.update": 1}
    assert twilio_double.state.numbers[sid]["voice_fallback_url"] == FALLBACK


def test_empty_value_clears_the_fallback(twilio_double: TwilioDouble, twilio_client) -> None:
    sid = twilio_double.seed_number(
        "+14155550100", voice_url="https://v.example.com/", voice_fallback_url=FALLBACK
    )["sid"]

    updated = numbers_api(twilio_client)(sid).update(voice_fallback_url="")

    assert updated.voice_fallback_url == ""
    assert twilio_double.state.numbers[sid]["voice_url"] == "https://v.example.com/"


def test_fallback_without_voice_url_is_21405(twilio_double: TwilioDouble, twilio_client) -> None:
    sid = twilio_double.seed_number("+14155550100")["sid"]

    with pytest.raises(TwilioRestException) as raised:
        numbers_api(twilio_client)(sid).update(voice_fallback_url=FALLBACK)

    assert (raised.value.status, raised.value.code) == (400, 21405)
    assert twilio_double.state.numbers[sid]["voice_fallback_url"] is None
    assert not twilio_double.writes()


def test_fallback_with_voice_url_in_the_same_request_is_fine(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    sid = twilio_double.seed_number("+14155550100")["sid"]

    numbers_api(twilio_client)(sid).update(
        voice_url="https://v.example.com/", voice_fallback_url=FALLBACK
    )

    assert twilio_double.state.numbers[sid]["voice_fallback_url"] == FALLBACK


def test_invalid_url_is_21402(twilio_double: TwilioDouble, twilio_client) -> None:
    sid = twilio_double.seed_number("+14155550100", voice_url="https://v.example.com/")["sid"]

    with pytest.raises(TwilioRestException) as raised:
        numbers_api(twilio_client)(sid).update(voice_fallback_url="failover.example.com/x")

    assert raised.value.code == 21402


def test_put_as_fallback_method_is_refused_and_recorded(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    sid = twilio_double.seed_number("+14155550100", voice_url="https://v.example.com/")["sid"]

    with pytest.raises(TwilioRestException) as raised:
        numbers_api(twilio_client)(sid).update(
            voice_fallback_url=FALLBACK, voice_fallback_method="PUT"
        )

    assert (raised.value.status, raised.value.code) == (400, 21403)
    assert "VoiceFallbackMethod" in raised.value.msg
    [violation] = twilio_double.take_violations()
    assert violation.direction == "request"
    assert "'PUT' is not one of ['GET', 'POST']" in str(violation)
    assert twilio_double.state.numbers[sid]["voice_fallback_url"] is None


def test_application_and_trunk_bindings_exclude_each_other(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    app, trunk = "AP" + "1" * 32, "TK" + "2" * 32
    on_app = twilio_double.seed_number("+14155550100", voice_application_sid=app)
    on_trunk = twilio_double.seed_number("+14155550101", trunk_sid=trunk)
    assert (on_app["voice_application_sid"], on_app["trunk_sid"]) == (app, None)
    assert (on_trunk["voice_application_sid"], on_trunk["trunk_sid"]) == ("", trunk)

    numbers_api(twilio_client)(on_app["sid"]).update(trunk_sid=trunk)

    assert twilio_double.state.numbers[on_app["sid"]]["voice_application_sid"] == ""
    assert twilio_double.state.numbers[on_app["sid"]]["trunk_sid"] == trunk


def test_console_edit_is_visible_but_not_a_write(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    twilio_double.seed_number("+14155550100", voice_url="https://v.example.com/")

    twilio_double.edit_number("+14155550100", voice_fallback_url="https://drift.example.com/")

    assert numbers_api(twilio_client).list()[0].voice_fallback_url == "https://drift.example.com/"
    assert not twilio_double.writes()
    with pytest.raises(TypeError):
        twilio_double.edit_number("+14155550100", voice_fallback="typo")
    with pytest.raises(ValueError, match="E.164"):
        twilio_double.seed_number("4155550100")


def test_unknown_number_is_a_twilio_404(twilio_double: TwilioDouble, twilio_client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        numbers_api(twilio_client)("PN" + "0" * 32).fetch()

    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_other_account_in_the_path_is_a_404(twilio_double: TwilioDouble) -> None:
    url = (
        twilio_double.product_url("api.twilio.com")
        + f"/2010-04-01/Accounts/AC{'9' * 32}/IncomingPhoneNumbers.json"
    )

    response = requests.get(
        url, auth=(twilio_double.account_sid, twilio_double.auth_token), timeout=5
    )

    assert response.status_code == 404
    assert response.json()["code"] == 20404


def test_delete_exists_and_is_recorded(twilio_spec_dir: Path) -> None:
    with TwilioDouble(spec_dir=twilio_spec_dir) as double:
        sid = double.seed_number("+14155550100")["sid"]

        numbers_api(double.client(timeout=5))(sid).delete()

        [delete] = double.deletes_of_numbers()
        assert (delete.status, delete.path.endswith(f"/{sid}.json")) == (204, True)
        assert double.writes() == {"IncomingPhoneNumber.delete": 1}
        assert sid not in double.state.numbers
        assert not double.violations
