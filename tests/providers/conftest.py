"""Fixtures for the provider suite: the Twilio double, a configured provider host.

The suite-wide guarantee that no phone number is ever released is asserted here, once, over
every double any provider test used (the double's own fixture also fails a single test that
sent such a DELETE).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.host import ProviderHost
from tests.harness.support import start_host

_NUMBER_DELETES: list[int] = []


@pytest.fixture(scope="session", autouse=True)
def _no_number_released_in_the_whole_suite() -> Iterator[None]:
    yield
    assert sum(_NUMBER_DELETES) == 0, (
        f"{sum(_NUMBER_DELETES)} DELETE request(s) on IncomingPhoneNumbers across the suite"
    )


@pytest.fixture
def double(twilio_double: Any) -> Iterator[Any]:
    """The contract-checked double; its number DELETEs are tallied for the whole suite."""
    yield twilio_double
    _NUMBER_DELETES.append(len(twilio_double.deletes_of_numbers()))


@pytest.fixture
def host(double: Any) -> Iterator[ProviderHost]:
    """A fresh ``python -m pulumi.dynamic`` configured with stack config for the double."""
    h = start_host(double)
    yield h
    h.close()
