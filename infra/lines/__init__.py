"""lines.yaml → model: read with positions (``source``), check the schema and the rules
(``load``, ``checks``, ``voices``), build the frozen model. Every problem is reported at once as
``FILE:LINE:COLUMN``.

Must not import: pulumi, twilio, infra.providers, infra.render, infra.cli.
"""
