"""Characters users cannot see: naming them in messages, and keeping messages on one line.

Every user-supplied text that appears in a diagnostic goes through ``quoted`` so a key or a
voice holding a line break, a control character or an invisible character still gives one
``FILE:LINE:COLUMN`` line, with the odd character spelled out (``\\u200b``).
Must not import: anything from infra.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata

FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(
        f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
    )
    + "]"
)
"""Characters no value may hold: controls other than tab and line breaks, surrogates and
Unicode non-characters. TwiML is XML, which cannot carry most of them at all."""

_UNSHOWABLE = (
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\ud800-\udfff\ufdd0-\ufdef\ufff9-\uffff]"
)
"""Characters a message must escape: invisible, control, line-breaking or bidi characters."""


@functools.cache
def _unshowable() -> re.Pattern[str]:
    """``_UNSHOWABLE`` compiled when first needed: compiling it costs more than a clean
    10,000-line ``validate`` spends on messages, which is nothing."""
    return re.compile(_UNSHOWABLE)


_CONTROL_NAMES = {
    "\x00": "NULL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


_CREDENTIALS = re.compile(r"(://)[^/?#@\s]*@")
"""``user:password@`` after a URL scheme: never repeated in a message."""


def _safe(text: str) -> str:
    text = _CREDENTIALS.sub(r"\1***@", text)
    if text.isascii() and text.isprintable():  # _UNSHOWABLE's ASCII members are not printable
        return text
    return _unshowable().sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def char_name(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``; a name for control characters too."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    if not name:
        category = unicodedata.category(char)
        name = {
            "Cc": "a control character",
            "Cs": "a lone surrogate",
            "Cn": "a non-character",
        }.get(category, "an unnamed character")
    return f"U+{ord(char):04X} {name}"


def quoted(text: str, limit: int = 80) -> str:
    """``text`` in double quotes with every invisible or line-breaking character escaped and
    URL credentials masked (``https://***@host``)."""
    text = _CREDENTIALS.sub(r"\1***@", text)
    if len(text) > limit:
        text = text[:limit] + "…"
    return _safe(json.dumps(text, ensure_ascii=False))


def one_line(text: str) -> str:
    """``text`` with line breaks and other unshowable characters escaped, and no URL
    credentials (messages)."""
    return _safe(text)


def odd_characters(text: str, allowed: str = "") -> str:
    """Why an ASCII-only value that looks right is not: its first non-printable-ASCII character.

    ``""`` when every character is printable ASCII (or in ``allowed``).
    """
    for position, char in enumerate(text, 1):
        if " " < char < "\x7f" or char in allowed:
            continue
        if char in "\n\r":
            where = "at the end" if position == len(text) else f"at character {position}"
            return f"it contains a line break ({char_name(char)}) {where}"
        if char == " ":
            return f"it contains a space at character {position}"
        kind = "an invisible character" if _invisible(char) else "a look-alike character"
        return f"it contains {kind}, {char_name(char)}, at character {position}"
    return ""


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp", "Mn")
