"""What every provider shares: credentials from ``configure()``, a client per call, the
opening of ``check()``, and preview unknowns.

- Credentials come only from ``configure()`` (never from ``__init__``, module globals or
  ``pulumi.Config``, which is empty in the provider host), through ``infra.stack``, the one
  credential reader.
- ``TwilioProvider`` pickles to an empty instance state even after ``configure()`` ran, so no
  credential can reach ``__provider`` in state.

Must not import: twilio, infra.model, infra.lines, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider

from infra.errors import ProviderError
from infra.stack import Settings, twilio_settings
from infra.twilio.client import Twilio


def read_settings(get: Any, environ: Mapping[str, str]) -> Settings | str:
    """Settings from the stack config (``req.config.get``) and the environment, or the reason
    they are incomplete, naming config keys only (``infra.stack.twilio_settings``)."""
    return twilio_settings(get, environ, audience="stack")


class TwilioProvider(ResourceProvider):
    """Base of every Twilio provider: reads settings in ``configure()``, a client per call."""

    serialize_as_secret_always = False
    """Nothing secret is pickled, so ``__provider`` stays a small plain string."""

    def configure(self, req: ConfigureRequest) -> None:
        # Called once per host process, before any other method, under the host's lock.
        self._settings = read_settings(req.config.get, os.environ)

    def __getstate__(self) -> dict[str, Any]:
        # Even a configured instance pickles empty: credentials can never reach state.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    def _twilio(self, subject: str) -> Twilio:
        settings = getattr(self, "_settings", None)
        if settings is None:
            settings = read_settings(lambda _key: None, os.environ)
        if isinstance(settings, str):
            raise ProviderError(subject, settings)
        return Twilio(settings)


def checked_inputs(
    news: dict[str, Any],
    names: tuple[str, ...],
    *,
    required: tuple[str, ...] = (),
    defaults: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[CheckFailure]]:
    """The opening every ``check()`` shares: known inputs with defaults, unknown inputs and
    missing required inputs as failures. ``None`` counts as unset."""
    inputs = {k: news[k] for k in names if news.get(k) is not None}
    for key, value in (defaults or {}).items():
        inputs.setdefault(key, value)
    failures = [
        CheckFailure(k, "unknown input") for k in news if k not in names and k != "__provider"
    ]
    failures += [CheckFailure(k, "required") for k in required if k not in inputs]
    return inputs, failures


def is_unknown(value: object) -> bool:
    """True for a preview placeholder (a computed value not known yet)."""
    from pulumi.output import Unknown

    return isinstance(value, Unknown)


def has_unknowns(value: object) -> bool:
    """True when ``value`` or anything nested in it (dicts, lists) is a preview placeholder."""
    if isinstance(value, dict):
        return any(has_unknowns(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_unknowns(v) for v in value)
    return is_unknown(value)
