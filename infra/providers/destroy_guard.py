"""DestroyGuard: `pulumi destroy` needs the same kind of consent as removing lines.

Why: ``pulumi destroy`` does not run the program (it works from the state and the stack
config: https://www.pulumi.com/docs/iac/operations/stack-management/run-program/), so the
``LineLedger``'s safety brake, which runs in the ledger's ``check``, never sees it, and a
provider's ``delete`` receives only that resource's stored outputs. What a destroy does is
documented in README "Running it for real": every number is restored (only where the live
value is still this tool's), never released; documents, flows and the call queue go.

How: the program registers one ``DestroyGuard`` last, depending on every other resource, with
Pulumi's ``protect`` option set unless ``failover:allowDestroy`` is true. Pulumi deletes
dependents before what they depend on and refuses to delete a protected resource ("it will be
an error to do a Pulumi deployment which tries to delete a protected resource for any reason",
https://www.pulumi.com/docs/iac/concepts/resources/options/protect/; driving it from stack
config is Pulumi's own advice:
https://www.pulumi.com/docs/iac/operations/stack-management/protecting-against-undesired-changes/),
so a destroy stops at the guard
before any number is touched (*unconfirmed* on a real CLI: that the refusal comes before any
other delete of the same run; the engine model in tests/harness shows it). To destroy:
``pulumi config set failover:allowDestroy true && pulumi up`` (which only lifts the
protection), then ``pulumi destroy``; or ``pulumi state unprotect <guard urn>``.

The resource itself touches nothing in Twilio and holds nothing secret. Module path and class
names are stored in Pulumi state: never rename them without an alias.
Must not import: twilio, infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from infra.providers._pickling import init_resource

GUARD_ID = "destroy-guard"


class DestroyGuardProvider(ResourceProvider):
    """Pure: no inputs that matter, no outputs, no Twilio calls."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(GUARD_ID, {})

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Reached only once the protection is lifted; deleting the guard changes nothing."""


class DestroyGuard(pulumi.dynamic.Resource, module="failover", name="DestroyGuard"):
    """One per stack, registered last; protected unless ``failover:allowDestroy``."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        init_resource(self, DestroyGuardProvider(), name, {}, (), opts)
