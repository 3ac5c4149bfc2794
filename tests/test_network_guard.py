"""The suite can never reach Twilio or any other non-loopback host."""

import socket

import pytest

from tests.conftest import NetworkBlockedError


def test_public_address_is_refused() -> None:
    with socket.socket() as s, pytest.raises(NetworkBlockedError, match="only loopback"):
        s.connect(("203.0.113.10", 443))


def test_hostname_resolution_is_refused() -> None:
    with pytest.raises(NetworkBlockedError, match="api.twilio.com"):
        socket.getaddrinfo("api.twilio.com", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
            assert client.getpeername() == server.getsockname()
