"""Pulumi dynamic providers, one Twilio resource per module.

Module paths and class names here are stored in Pulumi state (the pickled ``__provider``
refers to them by reference) and type tokens are part of every URN: never rename or move
them without leaving an alias at the old path. Stored API:

- ``infra.providers.phone_number.PhoneNumberFailoverProvider``
  (``pulumi-python:dynamic/twilio:PhoneNumberFailover``; 0.1/0.2 stacks, until migrated)
- ``infra.providers.phone_number_batch.PhoneNumberBatchProvider``
  (``pulumi-python:dynamic/twilio:PhoneNumberBatch``; since 0.3)
- ``infra.providers.twiml_documents.TwimlDocumentsProvider``
  (``pulumi-python:dynamic/twilio:TwimlDocuments``)
- ``infra.providers.studio_flow.StudioFlowProvider``
  (``pulumi-python:dynamic/twilio:StudioFlow``)
- ``infra.providers.call_queue.CallQueueProvider``
  (``pulumi-python:dynamic/twilio:CallQueue``)
- ``infra.providers.destroy_guard.DestroyGuardProvider``
  (``pulumi-python:dynamic/failover:DestroyGuard``; since issue 16, not in a release yet)

Importing this package or any module in it is side-effect free: no config reads, no
network, no resources. ``twilio`` is imported inside functions only.

Must not import: infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""
