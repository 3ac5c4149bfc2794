"""A stateful local Twilio API double for the test suite, contract-checked against Twilio's
official OpenAPI files, with fault injection.

Public API::

    from tests.twilio_double import TwilioDouble
    with TwilioDouble() as d:
        d.seed_number("+14155550100", voice_url="https://example.com/voice")
        client = d.client()          # or set each domain's base_url to d.product_url(host)
        ...
        assert not d.violations

Calls: ``d.place_call(to, from_, primary=PrimaryOutcome.http_500, callees={...},
caller=Caller(...)) -> Journey`` runs an inbound call through the number's handlers, Studio,
Serverless Functions and TaskRouter on a virtual clock (README.md, "Calls"); the standalone
server answers ``POST /_double/calls`` the same way.

Fixtures for pytest live in :mod:`tests.twilio_double.pytest_plugin`; the command line in
``python -m tests.twilio_double --help``. Module map: ``double`` (facade), ``server`` (HTTP),
``dispatch`` (request pipeline), ``contract`` (openapi-core checks), ``faults``, ``limits``
(Twilio's documented limits, table in ``README.md``),
``recording``, ``state``, ``routing``/``paging``/``fields`` (plumbing), one module per product:
``numbers``, ``calls``, ``studio`` (+ ``flow_definition``), ``serverless``,
``serverless_build``, ``upload``, ``taskrouter``, ``workspaces``, ``tasks_api``; the call
engine: ``voice`` (facade), ``callflow`` (clock, journey), ``twiml_runner``, ``queue_runner``,
``studio_runner``, ``taskrouter_runner``, ``runtime`` (+ ``runtime_shim.js``), ``internet``,
``people``, ``expressions``, ``control`` (``/_double/`` endpoints).
Must not import: infra.*
"""

from .callflow import Journey, Step
from .double import TwilioDouble
from .faults import Fault
from .internet import Answer, PrimaryOutcome
from .people import Callee, Caller
from .recording import WRITE_KINDS, RecordedRequest, Violation
from .spec_files import SpecMissingError
from .state import AccountState, Upload

__all__ = [
    "WRITE_KINDS",
    "Answer",
    "Callee",
    "Caller",
    "Journey",
    "PrimaryOutcome",
    "Step",
    "AccountState",
    "Fault",
    "RecordedRequest",
    "SpecMissingError",
    "TwilioDouble",
    "Upload",
    "Violation",
]
