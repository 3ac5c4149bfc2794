"""Write a set of generated files under a directory, and only ever remove what was written.

``plan --out DIR`` keeps a manifest (``.failover-artifacts.json``: relative path → SHA-256
of the bytes written) of the files it owns. A later run removes a file only when the
manifest lists it and its bytes are still the ones written, and overwrites an existing file
only on the same terms; anything else in DIR (a Serverless project's own functions, a
file someone edited) is left alone, and the run stops before writing unless ``force``.
``write_stamped`` is the same rule for one file (``diff``/``plan --details FILE``), with no
manifest beside it: the file's first line is a Markdown comment holding the SHA-256 of the
rest, so a later run overwrites it only while it is a file it wrote and nobody changed.
Must not import: anything in infra except errors.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from infra.errors import InfraError

MANIFEST = ".failover-artifacts.json"
STAMP = "<!-- written by failover {what}; rewritten only while unchanged: sha256 {digest} -->\n"
_STAMPED = re.compile(
    r"<!-- written by failover [^\n]*; rewritten only while unchanged: sha256 ([0-9a-f]{64}) -->\n"
)
_MAX_STAMPED = 256 << 20  # never read a huge foreign file just to find it is not ours


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(out_dir: Path) -> dict[str, str]:
    path = out_dir / MANIFEST
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = loaded.get("files") if isinstance(loaded, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def _current(path: Path) -> str | None:
    """SHA-256 of a regular file's bytes; None when absent or not a regular file."""
    try:
        if not path.is_file() or path.is_symlink():
            return None
        return _digest(path.read_bytes())
    except OSError:
        return None


def _inside(out_dir: Path, relative: str) -> Path | None:
    """``out_dir / relative`` when that stays inside ``out_dir`` (manifest entries are data)."""
    if not relative or relative.startswith("/") or ".." in Path(relative).parts:
        return None
    return out_dir / relative


def write_owned(out_dir: Path, files: dict[str, str], *, force: bool = False) -> list[Path]:
    """Write ``files`` (relative path → text) under ``out_dir``; return the written paths.

    Raises InfraError, before writing anything, when a file to be written exists and was
    not written by an earlier run (or was changed since), unless ``force``.
    """
    out_dir = Path(out_dir)
    try:
        return _write_owned(out_dir, files, force=force)
    except OSError as exc:
        where = exc.filename or out_dir
        raise InfraError(f"cannot write {where}: {exc.strerror or exc}") from exc


def _write_owned(out_dir: Path, files: dict[str, str], *, force: bool) -> list[Path]:
    if out_dir.exists() and not out_dir.is_dir():
        raise InfraError(f"{out_dir} exists and is not a directory; choose another --out")
    owned = _read_manifest(out_dir)
    encoded = {relative: text.encode("utf-8") for relative, text in files.items()}
    foreign = []
    if (out_dir / MANIFEST).exists() and not owned and _current(out_dir / MANIFEST) is None:
        foreign.append(MANIFEST)
    for relative in encoded:
        path = out_dir / relative
        if path.is_symlink() or (path.exists() and not path.is_file()):
            foreign.append(relative)
        elif path.exists() and owned.get(relative) != _current(path):
            foreign.append(relative)
    if foreign and not force:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise InfraError(
            f"{out_dir} already holds {shown}, not written by an earlier `plan --out` (or changed "
            "since); nothing was written: choose an empty --out directory, or pass --force to "
            "overwrite those files"
        )
    written: list[Path] = []
    manifest: dict[str, str] = {}
    for relative, data in encoded.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()  # --force: replace the link itself, never write through it
        path.write_bytes(data)
        written.append(path)
        manifest[relative] = _digest(data)
    for relative, digest in sorted(owned.items()):
        if relative in encoded:
            continue
        stale = _inside(out_dir, relative)
        if stale is None or _current(stale) != digest:
            continue  # not ours any more: someone changed or replaced it
        stale.unlink()
        _prune(stale.parent, out_dir)
    (out_dir / MANIFEST).write_text(
        json.dumps({"files": manifest}, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return sorted(written)


def _prune(folder: Path, out_dir: Path) -> None:
    """Remove ``folder`` and its parents below ``out_dir`` while they are empty."""
    while folder != out_dir and out_dir in folder.parents:
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent


def _ours(path: Path) -> bool:
    """True when ``path`` is a regular file whose stamp matches the bytes after it."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_STAMPED:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    head, newline, rest = data.partition(b"\n")
    found = _STAMPED.fullmatch(head.decode("utf-8", "replace") + newline.decode())
    return found is not None and found.group(1) == _digest(rest)


def write_stamped(path: Path, text: str, *, what: str, shown: str | None = None) -> None:
    """Write ``text`` to ``path`` after a stamp line naming ``what`` wrote it; errors name
    the file as ``shown`` (the user's spelling).

    Raises InfraError, writing nothing, when ``path`` exists and is not a file an earlier
    run stamped (or it changed since), or is a link or a directory. The write is atomic: a
    reader sees the old file or the new one, and a link is never written through.
    """
    path = Path(path)
    shown = shown or str(path)
    if os.path.lexists(path) and not _ours(path):
        raise InfraError(
            f"{shown} already exists and was not written by failover (or was changed since); "
            "nothing was written: choose another file, or remove it first"
        )
    body = text.encode("utf-8")
    data = STAMP.format(what=what, digest=_digest(body)).encode("utf-8") + body
    mask = os.umask(0)
    os.umask(mask)  # read the umask: mkstemp's 0600 would hide a report meant to be shared
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o666 & ~mask)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise InfraError(f"cannot write {shown}: {exc.strerror or exc}") from exc
