"""Checks of ``sms`` (a line's or ``defaults.sms``): ``reply`` alone, or ``url`` with an
optional ``method``, as ``failover.url``/``message`` stand alone.

Must not import: twilio, pulumi, jsonschema, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.errors import Diagnostic
from infra.lines.context import Context
from infra.lines.source import Document, JsonPath
from infra.model import SmsFallback


def sms_settings(ctx: Context) -> Iterator[tuple[JsonPath, dict[str, Any], set[str]]]:
    """(path, mapping, keys written there) of ``defaults.sms`` and every line's ``sms``; the
    keys include those whose value the schema rejected (the mapping leaves them out)."""
    data = ctx.document.data
    defaults = ctx.mapping("defaults")
    if isinstance(defaults.get("sms"), dict) and ctx.usable("defaults", "sms"):
        yield ("defaults", "sms"), defaults["sms"], set(data["defaults"]["sms"])
    for index, line in ctx.lines():
        if isinstance(line.get("sms"), dict) and ctx.usable("lines", index, "sms"):
            yield ("lines", index, "sms"), line["sms"], set(data["lines"][index]["sms"])


def check_sms(ctx: Context) -> Iterator[Diagnostic]:
    """``sms`` is ``reply`` alone or ``url`` (+ ``method``), like ``failover.url``/``message``."""
    for path, sms, written in sms_settings(ctx):
        name = "defaults.sms" if path[0] == "defaults" else "sms"
        if "off" in written:
            others = ", ".join(sorted(written - {"off"}))
            if path[0] == "defaults":
                yield ctx.error(
                    (*path, "off"),
                    "defaults.sms.off opts a line out of defaults.sms; to set no default, "
                    "remove defaults.sms",
                    key=True,
                )
            elif others:
                yield ctx.error(
                    (*path, "off"),
                    f"sms.off stands alone, but {others} is also set; keep one",
                    key=True,
                )
            continue
        if "reply" in written and "url" in written:
            yield ctx.error(
                (*path, "url"), f"{name}.reply and {name}.url are both set; keep one", key=True
            )
        elif "reply" not in written and "url" not in written:
            yield ctx.error(
                path,
                f"{name} needs reply (text sent back) or url (a secondary messaging server)"
                + ("" if path[0] == "defaults" else ", or off: true to opt out of defaults.sms"),
                key=True,
            )
        if "method" in written and "url" not in written:
            yield ctx.error(
                (*path, "method"),
                f"{name}.method is the HTTP method of {name}.url; a reply is a static document "
                "always requested with GET: remove the method",
                key=True,
            )
        reply = sms.get("reply")
        if isinstance(reply, str) and not reply.strip():
            yield ctx.error((*path, "reply"), f"{name}.reply is blank; write what senders get")


def sms_model(
    document: Document, path: tuple[Any, ...], raw: dict[str, Any] | None
) -> SmsFallback | None:
    """``sms`` as the model holds it; None when absent or ``off`` (the number's own settings)."""
    if raw is None or raw.get("off"):
        return None
    return SmsFallback(
        reply=raw.get("reply"),
        url=raw.get("url"),
        method=raw.get("method", "POST"),
        where=document.where(path),
    )
