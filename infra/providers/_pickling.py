"""Work around a Pulumi SDK leak that crashes programs with more than ~980 dynamic resources.

``pulumi.dynamic.dynamic.serialize_provider`` (3.272.0, and since dynamic providers exist)
wraps ``pickle._Pickler._batch_setitems`` in a dict-sorting function for determinism and
never restores it: every dynamic resource constructed in a process adds one wrapper around
the previous ones. After about 980 resources pickling a dict recurses past Python's limit
and the program dies with ``RecursionError`` (pulumi/pulumi#17803, closed as no-repro), and
long before that each resource pays for sorting every dict once per wrapper.

``pickler_restored()`` around ``dynamic.Resource.__init__`` puts both patched attributes
back, so each serialization wraps the original exactly once. The pickled ``__provider``
bytes are unchanged (sorting sorted items again changes nothing), so no stored state moves.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

_PATCHED = ("_batch_setitems", "save_dict")


@contextmanager
def pickler_restored() -> Iterator[None]:
    """Undo, on exit, what ``serialize_provider`` leaves patched on ``pickle._Pickler``."""
    pickler = pickle._Pickler  # type: ignore[attr-defined,unused-ignore]
    saved = {name: pickler.__dict__[name] for name in _PATCHED}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(pickler, name, value)


def init_resource(
    resource: Any,
    provider: Any,
    name: str,
    args: Any,
    outputs: Iterable[str],
    opts: Any = None,
) -> None:
    """``dynamic.Resource.__init__`` for every resource class here, with the pickler restored.

    ``args`` is the resource's ``<X>Args`` dataclass (or a plain dict of inputs); each name in
    ``outputs`` is passed as ``None`` so the resource gets that output attribute (reference
    §2.3). Type tokens and provider classes are untouched: nothing stored in state moves.
    """
    import pulumi.dynamic

    props: dict[str, Any] = dict.fromkeys(outputs)
    inputs = (
        args if isinstance(args, dict) else {f.name: getattr(args, f.name) for f in fields(args)}
    )
    props.update(inputs)
    with pickler_restored():
        pulumi.dynamic.Resource.__init__(resource, provider, name, props, opts)
