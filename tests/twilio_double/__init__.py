"""A stateful local Twilio API double for the test suite, contract-checked against Twilio's
official OpenAPI files, with fault injection.

Public API::

    from tests.twilio_double import TwilioDouble
    with TwilioDouble() as d:
        d.seed_number("+14155550100", voice_url="https://example.com/voice")
        client = d.client()          # or set each domain's base_url to d.product_url(host)
        ...
        assert not d.violations

Fixtures for pytest live in :mod:`tests.twilio_double.pytest_plugin`; the command line in
``python -m tests.twilio_double --help``. Module map: ``double`` (facade), ``server`` (HTTP),
``dispatch`` (request pipeline), ``contract`` (openapi-core checks), ``faults``, ``limits``
(Twilio's documented limits, table in ``README.md``),
``recording``, ``state``, ``routing``/``paging``/``fields`` (plumbing), one module per product:
``numbers``, ``calls``, ``studio`` (+ ``flow_definition``), ``serverless``,
``serverless_build``, ``upload``, ``taskrouter``, ``workspaces``.
Must not import: infra.*
"""

from .double import TwilioDouble
from .faults import Fault
from .recording import WRITE_KINDS, RecordedRequest, Violation
from .spec_files import SpecMissingError
from .state import AccountState, Upload

__all__ = [
    "WRITE_KINDS",
    "AccountState",
    "Fault",
    "RecordedRequest",
    "SpecMissingError",
    "TwilioDouble",
    "Upload",
    "Violation",
]
