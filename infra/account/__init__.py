"""Read-only views of a live Twilio account, for reports: drift, the import draft, voicemails,
the readiness check (``check``, walking each failover path with ``hops``).

Nothing here writes to Twilio. Requests go through ``infra.twilio`` (retries, error
translation); credentials come from ``infra.stack``.

Must not import: pulumi, infra.providers, infra.program, infra.cli.
"""
