"""Files of the repository deployed as Serverless assets (recordings), by reference.

A document whose content is ``file:<sha256>:<location>`` stands for that file's bytes:
recordings are read when they are uploaded, so their bytes never enter Pulumi state (only
this short reference does), and a file whose content no longer has that sha256 (changed after
``failover validate``/the program read it) is refused rather than deployed unchecked.
``location`` is the lines file's folder joined with the path written in lines.yaml, as the
program saw it; the provider host runs in the same folder (the project's).

Must not import: pulumi, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

import hashlib

from infra.errors import ProviderError

FILE_REFERENCE = "file:"
MAX_FILE_BYTES = 25 * 1024 * 1024
"""The asset size Twilio states (https://support.twilio.com/hc/en-us/articles/360019105433);
that the Serverless API has the same limit is unconfirmed."""


def file_reference(sha256: str, location: str) -> str:
    """The document content standing for a file of the repository."""
    return f"{FILE_REFERENCE}{sha256}:{location}"


def content_digest(content: str) -> str:
    """What decides that a document changed: the text's sha256, or the referenced file's."""
    if content.startswith(FILE_REFERENCE):
        return content[len(FILE_REFERENCE) :].split(":", 1)[0]
    return hashlib.sha256(content.encode()).hexdigest()


def content_bytes(resource: str, content: str) -> bytes:
    """The bytes to upload: the text, or the referenced file after checking its hash."""
    if not content.startswith(FILE_REFERENCE):
        return content.encode()
    digest, location = content[len(FILE_REFERENCE) :].split(":", 1)
    try:
        with open(location, "rb") as handle:  # noqa: PTH123 - a plain read, bounded below
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ProviderError(
            resource, f"cannot read {location} ({exc.strerror}); run from the folder of Pulumi.yaml"
        ) from None
    if len(data) > MAX_FILE_BYTES or hashlib.sha256(data).hexdigest() != digest:
        raise ProviderError(
            resource, f"{location} changed after it was checked; run `pulumi up` again to deploy it"
        )
    return data
