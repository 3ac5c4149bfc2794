"""pytest fixtures for the Twilio double (registered in ``tests/conftest.py``).

- ``twilio_spec_dir`` (session): the pinned OpenAPI files; runs ``script/fetch-openapi``
  once when they are missing, or fails with what to run.
- ``twilio_double``: a started :class:`TwilioDouble`, fresh per test. At teardown the test
  fails if any contract violation was recorded (take expected ones with
  ``take_violations()``) or if any DELETE reached an IncomingPhoneNumber.
- ``twilio_client``: a ``twilio.rest.Client`` aimed at that double (10 s timeout).

``TWILIO_REGION``/``TWILIO_EDGE`` are removed from the environment for these fixtures: the
library would otherwise rewrite the double's host name.
Must not import: infra.*
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .double import TwilioDouble
from .spec_files import SpecMissingError, ensure_specs


@pytest.fixture(scope="session")
def twilio_spec_dir() -> Path:
    try:
        return ensure_specs(allow_fetch=True)
    except SpecMissingError as error:
        pytest.fail(str(error), pytrace=False)


def _teardown_problems(double: TwilioDouble) -> list[str]:
    problems = []
    if double.violations:
        problems.append(
            f"{len(double.violations)} contract violation(s) recorded by the Twilio double"
        )
    deletes = double.deletes_of_numbers()
    if deletes:
        problems.append(f"{len(deletes)} DELETE request(s) on IncomingPhoneNumbers (never allowed)")
    return problems


@pytest.fixture
def twilio_double(twilio_spec_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioDouble]:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    double = TwilioDouble(spec_dir=twilio_spec_dir)
    with double:
        yield double
    problems = _teardown_problems(double)
    if problems:
        pytest.fail("\n".join(problems) + "\n" + double.explain(), pytrace=False)


@pytest.fixture
def twilio_client(twilio_double: TwilioDouble) -> Any:
    return twilio_double.client(timeout=10)
