"""Structural check of a Studio flow definition: the cheap part of what Twilio validates.

Checked (reference §4.1): the definition is a JSON object; ``states`` is a non-empty list of
objects with unique non-empty string ``name`` and ``type``; ``transitions`` (when present) is a
list of objects with a string ``event`` whose non-empty ``next`` names a state;
``properties`` (when present) is an object; ``initial_state`` names a state; ``flags`` (when
present) is an object with a boolean ``allow_concurrent_calls``.
Not checked: widget property types (Twilio does, e.g. "integer found, string expected").
Each problem is ``{"message", "property_path"}`` with a JSON-pointer-like path
(``#/states/3/transitions/0/next``), the shape Twilio's 81022 details carry (per its docs).
Must not import: infra.*
"""

from __future__ import annotations

import json
from typing import Any

Problem = dict[str, str]


def parse(definition: Any) -> tuple[Any, list[Problem]]:
    """The definition as an object, from the JSON string sent in the form."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            return None, [{"message": f"Definition is not valid JSON: {exc}", "property_path": "#"}]
    if not isinstance(definition, dict):
        return None, [{"message": "Definition must be a JSON object", "property_path": "#"}]
    return definition, []


def _transition_problems(state_index: int, state: dict[str, Any], names: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    transitions = state.get("transitions", [])
    if not isinstance(transitions, list):
        return [
            {
                "message": "transitions must be an array",
                "property_path": f"#/states/{state_index}/transitions",
            }
        ]
    for index, transition in enumerate(transitions):
        path = f"#/states/{state_index}/transitions/{index}"
        if not isinstance(transition, dict) or not isinstance(transition.get("event"), str):
            problems.append({"message": "transition needs a string event", "property_path": path})
            continue
        target = transition.get("next")
        if target not in (None, "") and target not in names:
            problems.append(
                {"message": f"next names unknown state {target!r}", "property_path": f"{path}/next"}
            )
    return problems


def _state_problems(states: list[Any]) -> tuple[set[str], list[Problem]]:
    problems: list[Problem] = []
    names: set[str] = set()
    for index, state in enumerate(states):
        path = f"#/states/{index}"
        if not isinstance(state, dict):
            problems.append({"message": "state must be an object", "property_path": path})
            continue
        name = state.get("name")
        if not isinstance(name, str) or not name:
            problems.append(
                {"message": "state needs a non-empty name", "property_path": f"{path}/name"}
            )
        elif name in names:
            problems.append(
                {"message": f"duplicate state name {name!r}", "property_path": f"{path}/name"}
            )
        else:
            names.add(name)
        if not isinstance(state.get("type"), str) or not state.get("type"):
            problems.append(
                {"message": "state needs a widget type", "property_path": f"{path}/type"}
            )
        if "properties" in state and not isinstance(state["properties"], dict):
            problems.append(
                {"message": "properties must be an object", "property_path": f"{path}/properties"}
            )
    return names, problems


def _flags_problems(definition: dict[str, Any]) -> list[Problem]:
    if "flags" not in definition:
        return []
    flags = definition["flags"]
    if not isinstance(flags, dict) or not isinstance(flags.get("allow_concurrent_calls"), bool):
        return [
            {
                "message": "flags.allow_concurrent_calls must be a boolean",
                "property_path": "#/flags",
            }
        ]
    return []


def check(definition: Any) -> list[Problem]:
    """Every structural problem in ``definition`` (a JSON string or an object); [] if fine."""
    parsed, problems = parse(definition)
    if problems:
        return problems
    states = parsed.get("states")
    if not isinstance(states, list) or not states:
        return [{"message": "states must be a non-empty array", "property_path": "#/states"}]
    names, problems = _state_problems(states)
    for index, state in enumerate(states):
        if isinstance(state, dict):
            problems.extend(_transition_problems(index, state, names))
    initial = parsed.get("initial_state")
    if not isinstance(initial, str) or initial not in names:
        problems.append(
            {
                "message": f"initial_state {initial!r} is not a state",
                "property_path": "#/initial_state",
            }
        )
    return problems + _flags_problems(parsed)
