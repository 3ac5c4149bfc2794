"""Is this user text a git revision we may hand to git? (``diff --base``/``--head``)

Text given as a ref goes onto git's command line: ``--output=PATH`` would be read as an
option (and write a file), an empty ref means the index, ``A:B`` names a path. Refused
before git runs; the rest is git's own check-ref-format rules, applied by git itself.
Must not import: anything from infra.
"""

from __future__ import annotations


def ref_problem(ref: str) -> str | None:
    """Why ``ref`` is not usable as a revision, or None."""
    if not ref.strip():
        return (
            "is empty; give a git revision such as origin/main (an empty one would compare "
            "with the staging area)"
        )
    if ref.startswith("-"):
        return f"{ref!r} starts with '-', so git would read it as an option; give a git revision such as origin/main"
    if any(char.isspace() or ord(char) < 0x20 or char == "\x7f" for char in ref):
        return f"{ref!r} contains a space or control character; give a git revision such as origin/main"
    if ":" in ref:
        return f"{ref!r} contains ':'; give a revision only, the file is the FILE argument"
    return None
