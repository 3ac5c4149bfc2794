"""TaskRouter expressions (workflow filters, ``TargetWorkers``) over a JSON attribute object.

Supported, per Twilio's expression syntax page: literals (strings, numbers, ``true``/
``false``, ``[lists]``), dotted attribute names (an optional ``worker.``/``task.`` prefix
is dropped), ``==``/``=``, ``!=``, ``<``, ``>``, ``<=``, ``>=``, ``HAS`` (array contains),
``IN`` (value in list), ``CONTAINS`` (substring), ``AND``, ``OR``, ``NOT`` and parentheses.
An attribute that is missing compares as null; ``HAS`` on a non-array is false.
Must not import: infra.*
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<num>-?\d+(?:\.\d+)?)'
    r"|(?P<op>==|!=|<=|>=|=|<|>|\(|\)|\[|\]|,)|(?P<word>[A-Za-z_][\w.]*))"
)
_COMPARE = {"==", "=", "!=", "<", ">", "<=", ">=", "HAS", "IN", "CONTAINS", "NOT IN"}


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if not found or found.end() == position:
            raise ValueError(f"cannot parse expression at {text[position:]!r}")
        position = found.end()
        if found.group("str"):
            tokens.append(("lit", json.loads('"' + found.group("str")[1:-1] + '"')))
        elif found.group("num"):
            tokens.append(("lit", float(found.group("num"))))
        elif found.group("op"):
            tokens.append(("op", found.group("op")))
        else:
            word = found.group("word")
            upper = word.upper()
            if upper in ("AND", "OR", "NOT", "HAS", "IN", "CONTAINS"):
                tokens.append(("op", upper))
            elif upper in ("TRUE", "FALSE", "NULL"):
                tokens.append(("lit", {"TRUE": True, "FALSE": False, "NULL": None}[upper]))
            else:
                tokens.append(("name", word))
    return tokens


class _Parser:
    def __init__(self, text: str, attributes: dict[str, Any]) -> None:
        self.tokens, self.index, self.attributes = _tokens(text), 0, attributes

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise ValueError("expression ends too early")
        self.index += 1
        return token

    def expression(self) -> bool:
        value = self.conjunction()
        while self.peek() == ("op", "OR"):
            self.take()
            value = self.conjunction() or value
        return value

    def conjunction(self) -> bool:
        value = self.negation()
        while self.peek() == ("op", "AND"):
            self.take()
            value = self.negation() and value
        return value

    def negation(self) -> bool:
        if self.peek() == ("op", "NOT"):
            self.take()
            return not self.negation()
        return self.comparison()

    def comparison(self) -> bool:
        if self.peek() == ("op", "("):
            self.take()
            value = self.expression()
            self.take()
            return value
        left = self.operand()
        token = self.peek()
        if token is None or token[0] != "op" or token[1] not in _COMPARE:
            return bool(left)
        operator = self.take()[1]
        return _compare(left, operator, self.operand())

    def operand(self) -> Any:
        kind, value = self.take()
        if kind == "lit":
            return value
        if kind == "name":
            return _lookup(self.attributes, value)
        if (kind, value) == ("op", "["):
            items = []
            while self.peek() != ("op", "]"):
                items.append(self.operand())
                if self.peek() == ("op", ","):
                    self.take()
            self.take()
            return items
        raise ValueError(f"unexpected {value!r} in expression")


def _lookup(attributes: dict[str, Any], name: str) -> Any:
    parts = name.split(".")
    if parts[0] in ("worker", "task") and len(parts) > 1:
        parts = parts[1:]
    value: Any = attributes
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _compare(left: Any, operator: str, right: Any) -> bool:
    if isinstance(left, float | int) and isinstance(right, float | int):
        left, right = float(left), float(right)
    if operator in ("==", "="):
        return left == right
    if operator == "!=":
        return left != right
    if operator == "HAS":
        return isinstance(left, list) and right in left
    if operator == "IN":
        return isinstance(right, list) and left in right
    if operator == "CONTAINS":
        return isinstance(left, str) and isinstance(right, str) and right in left
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[
            operator
        ]
    except TypeError:
        return False


def matches(expression: str | None, attributes: dict[str, Any]) -> bool:
    """Whether ``attributes`` satisfy ``expression`` (empty or missing: everything matches)."""
    if not expression or not expression.strip():
        return True
    parser = _Parser(expression, attributes)
    value = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"trailing tokens in expression {expression!r}")
    return value
