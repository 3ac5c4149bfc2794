"""lines.yaml → model: read bounded bytes (``raw``), parse with positions as editors count
them (``parsing``, ``source``), check the schema (``load``, ``messages``) and the rules
(``checks`` over a ``context``; ``numbers``, ``urls``, ``voices``, ``text``), build the frozen
model. Every problem is reported at once as ``FILE:LINE:COLUMN``.

Must not import: pulumi, twilio, infra.providers, infra.render, infra.cli.
"""
