"""``python -m infra`` runs the ``failover`` command line."""

from infra.cli.main import run

run()
