"""Both Twilio paging envelopes, with cursors the double can resolve.

- v2010: records under a plural key plus ``uri``, ``first_page_uri``, ``next_page_uri``,
  ``previous_page_uri`` (paths relative to the product host, which twilio-python joins to the
  domain's ``base_url``), ``page``, ``page_size``, ``start``, ``end``.
- v1/v2: records plus ``meta`` whose URLs are absolute and point back at the double:
  ``{base_url}/{host}{path}?…``; twilio-python follows ``meta.next_page_url`` verbatim.

``PageToken`` is opaque to clients: ``PA<sid>`` means "after this record", ``PB<sid>``
"before it", resolved through the account's creation sequence so a cursor survives deletes.
``Page`` is echoed back, never used to seek (as Twilio advises).
Must not import: infra.*
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .errors import invalid
from .routing import Call
from .state import Record

DEFAULT_PAGE_SIZE = 50
_PAGING_PARAMS = ("PageSize", "Page", "PageToken")


@dataclass(frozen=True)
class Window:
    items: list[Record]
    start: int  # index of the first item in the full list
    page: int
    page_size: int
    has_next: bool
    has_previous: bool


def _int_query(call: Call, name: str, default: int) -> int:
    value = call.query_arg(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise invalid(f"{name} must be an integer") from exc


def _cursor_start(call: Call, items: list[Record], page_size: int) -> int:
    token = call.query_arg("PageToken")
    if not token:
        return 0
    direction, sid = token[:2], token[2:]
    if direction not in ("PA", "PB") or sid not in call.state.sequence:
        raise invalid(f"Invalid PageToken {token!r}")
    position = call.state.sequence[sid]
    if direction == "PA":
        return sum(1 for item in items if call.state.sequence[item["sid"]] <= position)
    before = sum(1 for item in items if call.state.sequence[item["sid"]] < position)
    return max(0, before - page_size)


def window(call: Call, items: list[Record]) -> Window:
    """The slice of ``items`` this request asks for."""
    page_size = _int_query(call, "PageSize", DEFAULT_PAGE_SIZE)
    page = _int_query(call, "Page", 0)
    start = _cursor_start(call, items, page_size)
    chunk = items[start : start + page_size]
    return Window(chunk, start, page, page_size, start + page_size < len(items), start > 0)


def _filters(call: Call) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, values in call.query.items()
        if name not in _PAGING_PARAMS
        for value in values
    ]


def _query(call: Call, page_size: int, page: int, token: str | None = None) -> str:
    pairs = [*_filters(call), ("PageSize", str(page_size)), ("Page", str(page))]
    if token:
        pairs.append(("PageToken", token))
    return urlencode(pairs)


def _links(call: Call, win: Window, prefix: str) -> dict[str, str | None]:
    current = call.query_arg("PageToken")
    next_link = previous = None
    if win.has_next:
        token = "PA" + win.items[-1]["sid"]
        next_link = f"{prefix}?{_query(call, win.page_size, win.page + 1, token)}"
    if win.has_previous and win.items:
        token = "PB" + win.items[0]["sid"]
        previous = f"{prefix}?{_query(call, win.page_size, max(0, win.page - 1), token)}"
    return {
        "url": f"{prefix}?{_query(call, win.page_size, win.page, current)}",
        "first": f"{prefix}?{_query(call, win.page_size, 0)}",
        "next": next_link,
        "previous": previous,
    }


def page_v2010(call: Call, items: list[Record], key: str) -> dict[str, Any]:
    """A v2010 list page; links are relative (``/2010-04-01/…``)."""
    win = window(call, items)
    links = _links(call, win, call.path)
    return {
        key: win.items,
        "uri": links["url"],
        "first_page_uri": links["first"],
        "next_page_uri": links["next"],
        "previous_page_uri": links["previous"],
        "page": win.page,
        "page_size": win.page_size,
        "start": win.start,
        "end": win.start + max(len(win.items) - 1, 0),
    }


def page_v1(call: Call, items: list[Record], key: str) -> dict[str, Any]:
    """A v1/v2 list page; ``meta`` URLs are absolute and point at the double."""
    win = window(call, items)
    links = _links(call, win, f"{call.base_url}/{call.host}{call.path}")
    return {
        key: win.items,
        "meta": {
            "key": key,
            "page": win.page,
            "page_size": win.page_size,
            "url": links["url"],
            "first_page_url": links["first"],
            "next_page_url": links["next"],
            "previous_page_url": links["previous"],
        },
    }
