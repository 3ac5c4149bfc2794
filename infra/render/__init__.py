"""The render layer: the typed model of lines.yaml in, every artifact Twilio runs out. Pure.

- ``twiml``: per-line TwiML documents (voicemail, goodbye, message, queue hold);
- ``studio``: Studio flow definitions for branching failovers and alerts;
- ``taskrouter``: activities, task queues, workers and the workflow behind call queues;
- ``functions``: Serverless Function sources rendered from ``infra/templates/``;
- ``bindings``: deploy-time values (domain, SIDs) as placeholders until known;
- ``artifacts``: everything as byte-stable text (``render_all``) and ``write_artifacts``.

What ``plan --out`` writes is what the providers deploy: the providers receive these
renderings and substitute only the ``Bindings``.

Must not import: twilio.rest, twilio.http, twilio.base, pulumi, infra.lines, infra.providers,
infra.cli
"""
