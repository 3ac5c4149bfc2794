"""The lines.yaml JSON schema, installed as the data-only package ``failover_schemas``.

This file only makes ``schemas/`` a regular package, so an installed copy resolves to one
location; the schema itself is ``lines.schema.json`` beside it.
"""
