"""Pulumi program entry: Pulumi.yaml runs this directory. Everything is in infra/program.py.

Kept at the project root so that the dynamic-provider host, which starts in this directory,
can import ``infra.providers.*`` to unpickle providers.
"""

from infra.program import main

main()
