"""Fault injection of the Twilio double: each fault kind, observed from a real client."""

from __future__ import annotations

import time

import pytest
import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from urllib3.util.retry import Retry

from tests.twilio_double import TwilioDouble

VOICE = "https://voice.example.com/a"
FALLBACK = "https://fallback.example.com/a.xml"


@pytest.fixture
def number_url(twilio_double: TwilioDouble) -> str:
    sid = twilio_double.seed_number("+14155550100", voice_url=VOICE)["sid"]
    return (
        twilio_double.product_url("api.twilio.com")
        + f"/2010-04-01/Accounts/{twilio_double.account_sid}/IncomingPhoneNumbers/{sid}.json"
    )


def post(
    double: TwilioDouble, url: str, session: requests.Session | None = None, **data: str
) -> requests.Response:
    sender = session or requests
    return sender.post(
        url,
        data=data or {"VoiceFallbackUrl": FALLBACK},
        auth=(double.account_sid, double.auth_token),
        timeout=5,
    )


def fallback_of(double: TwilioDouble) -> str | None:
    return next(iter(double.state.numbers.values()))["voice_fallback_url"]


def test_429_with_retry_after_is_not_applied(twilio_double: TwilioDouble, number_url: str) -> None:
    twilio_double.faults.add(status=429, retry_after=1, times=1)

    throttled = post(twilio_double, number_url)
    passed = post(twilio_double, number_url)

    assert (throttled.status_code, throttled.json()["code"], throttled.headers["Retry-After"]) == (
        429,
        20429,
        "1",
    )
    assert passed.status_code == 200
    assert twilio_double.writes() == {"IncomingPhoneNumber.update": 1}
    assert [r.fault for r in twilio_double.requests] == ["status 429", None]


def test_429_without_retry_after_through_the_library(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    sid = twilio_double.seed_number("+14155550100")["sid"]
    twilio_double.faults.add(status=429, match="GET api.twilio.com")
    numbers = twilio_client.api.v2010.account.incoming_phone_numbers

    with pytest.raises(TwilioRestException) as raised:
        numbers(sid).fetch()
    # Lists raise the base TwilioException ("Unable to fetch page"), not TwilioRestException.
    with pytest.raises(TwilioException) as listed:
        numbers.list()

    assert (raised.value.status, raised.value.code) == (429, 20429)
    assert listed.value.args[1].status_code == 429
    account = f"/2010-04-01/Accounts/{twilio_double.account_sid}"
    url = f"{twilio_client.api.base_url}{account}/IncomingPhoneNumbers.json"
    raw = requests.get(url, auth=(twilio_double.account_sid, twilio_double.auth_token), timeout=5)
    assert raw.status_code == 429
    assert "Retry-After" not in raw.headers


def test_a_retrying_client_gets_through(twilio_double: TwilioDouble, number_url: str) -> None:
    fault = twilio_double.faults.add(status=429, retry_after=0, times=2, match="POST /2010-04-01/*")
    session = requests.Session()
    retry = Retry(
        total=3, status_forcelist=[429], allowed_methods=None, respect_retry_after_header=True
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))

    response = post(twilio_double, number_url, session)

    assert response.status_code == 200
    assert (fault.fired, len(twilio_double.requests)) == (2, 3)
    assert twilio_double.writes() == {"IncomingPhoneNumber.update": 1}


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503)])
def test_server_errors_are_twilio_shaped_and_not_applied(
    twilio_double: TwilioDouble, number_url: str, status: int, code: int
) -> None:
    twilio_double.faults.add(status=status)

    response = post(twilio_double, number_url)

    assert (response.status_code, response.json()["code"], response.json()["status"]) == (
        status,
        code,
        status,
    )
    assert fallback_of(twilio_double) is None
    assert not twilio_double.writes()


def test_reset_closes_without_answer(twilio_double: TwilioDouble, number_url: str) -> None:
    twilio_double.faults.add(reset=True, times=1)

    with pytest.raises(requests.ConnectionError):
        post(twilio_double, number_url)

    assert (twilio_double.requests[0].status, twilio_double.requests[0].fault) == (None, "reset")
    assert fallback_of(twilio_double) is None
    assert post(twilio_double, number_url).status_code == 200


def test_latency_delays_every_matching_request(twilio_double: TwilioDouble, twilio_client) -> None:
    twilio_double.faults.add(latency=0.2, match="GET")

    started = time.monotonic()
    twilio_client.api.v2010.account.incoming_phone_numbers.list()

    assert time.monotonic() - started >= 0.2


def test_hang_outlasts_the_client_timeout_and_stop_is_prompt(twilio_spec_dir) -> None:  # type: ignore[no-untyped-def]
    double = TwilioDouble(spec_dir=twilio_spec_dir).start()
    double.faults.add(hang=True, times=1)
    url = double.product_url("studio.twilio.com") + "/v2/Flows"

    with pytest.raises(requests.Timeout):
        requests.get(url, auth=(double.account_sid, double.auth_token), timeout=0.3)
    started = time.monotonic()
    double.stop()

    assert time.monotonic() - started < 2
    assert [r.fault for r in double.requests] == ["hang 30s"]


def test_fail_nth_write_not_applied(twilio_double: TwilioDouble, number_url: str) -> None:
    twilio_double.faults.add(fail_nth_write=2)

    statuses = [
        post(twilio_double, number_url, VoiceFallbackUrl=f"{FALLBACK}?n={n}").status_code
        for n in (1, 2, 3)
    ]

    assert statuses == [200, 500, 200]
    assert twilio_double.writes() == {"IncomingPhoneNumber.update": 2}
    assert [r.form["VoiceFallbackUrl"][0][-1] for r in twilio_double.requests if r.kind] == [
        "1",
        "3",
    ]


def test_fail_nth_write_applied_then_reset(twilio_double: TwilioDouble, number_url: str) -> None:
    twilio_double.faults.add(fail_nth_write=1, applied=True, reset=True)

    with pytest.raises(requests.ConnectionError):
        post(twilio_double, number_url)

    assert fallback_of(twilio_double) == FALLBACK  # it happened; the client never heard
    assert twilio_double.writes() == {"IncomingPhoneNumber.update": 1}
    assert twilio_double.requests[0].fault == "reset after applying"


def test_reads_do_not_count_as_writes(
    twilio_double: TwilioDouble, twilio_client, number_url: str
) -> None:
    fault = twilio_double.faults.add(fail_nth_write=1, match="api.twilio.com")
    twilio_client.api.v2010.account.incoming_phone_numbers.list()

    assert post(twilio_double, number_url).status_code == 500
    assert fault.fired == 1


def test_match_limits_the_fault(twilio_double: TwilioDouble, twilio_client) -> None:
    twilio_double.faults.add(status=503, match="POST studio.twilio.com /v2/Flows")

    assert twilio_client.studio.v2.flows.list() == []
    with pytest.raises(TwilioRestException):
        twilio_client.studio.v2.flows.create(friendly_name="f", status="draft", definition={})
    twilio_double.faults.clear()


def test_bad_fault_specs_are_refused(twilio_double: TwilioDouble) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        twilio_double.faults.add(status=500, match="POST nowhere")
    with pytest.raises(ValueError, match="needs"):
        twilio_double.faults.add(times=1)


def test_a_request_cut_off_mid_body_is_never_processed(twilio_double: TwilioDouble) -> None:
    """A client killed while sending (an interrupted `pulumi up`) leaves a truncated request;
    like any HTTP server, the double drops it instead of applying an empty form."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(twilio_double.base_url)
    before = len(twilio_double.state.workspaces)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            b"POST /taskrouter.twilio.com/v1/Workspaces HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\n"
            b"FriendlyName=cut"
        )
    twilio_double.client().taskrouter.v1.workspaces.list()  # the double is still serving
    assert len(twilio_double.state.workspaces) == before
    assert not any(
        r.path == "/v1/Workspaces" and r.method == "POST" for r in twilio_double.requests
    )
