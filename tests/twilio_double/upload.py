"""The Serverless upload host: Asset and Function Version creation by multipart/form-data.

``POST serverless-upload.twilio.com/v1/Services/{ZS}/Assets/{ZH}/Versions`` (and
``…/Functions/{ZH}/Versions``) is in neither the OpenAPI files nor twilio-python, so its
request shape is checked here against the documented one (reference §6.3, from
twilio-labs/serverless-api): multipart/form-data with exactly these parts

- ``Path``: text, 1–255 characters (a leading ``/`` is added when missing),
- ``Visibility``: ``public`` | ``protected`` | ``private``,
- ``Content``: a file part with a filename and a Content-Type.

Anything else is a contract violation and answers 400 (20001). The response is the new
version, checked against the spec's schema for fetching that version. The uploaded bytes are
kept in ``state.files[ZN]``.
Must not import: infra.*
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

from .fields import https, links, lookup
from .routing import Call, Reply, RouteTable, created
from .serverless import HOST as CONTROL_HOST
from .serverless import service_of
from .state import Record, Upload, iso, now

HOST = "serverless-upload.twilio.com"
VISIBILITIES = ("public", "protected", "private")
_EXPECTED = {"Path", "Visibility", "Content"}

routes = RouteTable()

Form = dict[str, list[str]]


def parse(content_type: str, body: bytes) -> tuple[Form, dict[str, Upload], list[str]]:
    """Split a multipart body into text fields and file parts; problems if it is not one."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}, {}, [f"Content-Type must be multipart/form-data, got {content_type or 'none'!r}"]
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    if not message.is_multipart() or message.defects:
        return {}, {}, ["body is not valid multipart/form-data"]
    form: Form = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None and part.get("Content-Type") is None:
            form.setdefault(name, []).append(data.decode("utf-8", errors="replace"))
        else:
            files[name] = Upload(filename, part.get("Content-Type"), data)
    return form, files, []


def shape_problems(form: Form, files: dict[str, Upload]) -> list[str]:
    """Every way the parts differ from the documented upload shape."""
    problems = [
        f"unexpected part {name!r}"
        for name in sorted(set(form) | set(files))
        if name not in _EXPECTED
    ]
    path = form.get("Path", [])
    if len(path) != 1 or not 1 <= len(path[0]) <= 255:
        problems.append("Path must be one text part of 1-255 characters")
    visibility = form.get("Visibility", [])
    if len(visibility) != 1 or visibility[0] not in VISIBILITIES:
        problems.append(f"Visibility must be one of {', '.join(VISIBILITIES)}")
    content = files.get("Content")
    if "Content" in form or content is None:
        problems.append("Content must be a file part")
    elif not content.filename or not content.content_type:
        problems.append("Content part needs a filename and a Content-Type")
    return problems


def _create_version(call: Call, owner: Record, resource: str) -> Reply:
    state = call.state
    sid = state.new_sid("ZN")
    owner_key = f"{resource}_sid"
    path = call.arg("Path") or ""
    collection = f"{resource.capitalize()}s/{owner['sid']}"
    base = f"/v1/Services/{owner['service_sid']}/{collection}/Versions/{sid}"
    version: Record = {
        "sid": sid, "account_sid": state.account_sid, "service_sid": owner["service_sid"],
        owner_key: owner["sid"], "path": path if path.startswith("/") else f"/{path}",
        "visibility": call.arg("Visibility"), "date_created": iso(now()),
        "url": https(CONTROL_HOST, base),
    }  # fmt: skip
    if resource == "function":
        version["links"] = links(CONTROL_HOST, base, {"function_version_content": "Content"})
    getattr(state, f"{resource}_versions")[sid] = version
    state.files[sid] = call.files["Content"]
    return created(version)


@routes.route(
    "POST", HOST, "/v1/Services/{ServiceSid}/Assets/{Sid}/Versions", kind="AssetVersion.create"
)
def create_asset_version(call: Call) -> Reply:
    service = service_of(call)
    asset = lookup(call.state.assets, call.params["Sid"], call, service_sid=service["sid"])
    return _create_version(call, asset, "asset")


@routes.route(
    "POST",
    HOST,
    "/v1/Services/{ServiceSid}/Functions/{Sid}/Versions",
    kind="FunctionVersion.create",
)
def create_function_version(call: Call) -> Reply:
    service = service_of(call)
    function = lookup(call.state.functions, call.params["Sid"], call, service_sid=service["sid"])
    return _create_version(call, function, "function")


def spec_twin(path: str, sid: str) -> tuple[str, str]:
    """The control-plane (host, path) that fetches the version an upload created.

    The contract checker validates the upload's response as that fetch's response.
    """
    return CONTROL_HOST, f"{path}/{sid}"
