"""Serverless v1 control plane: Services, Environments, Assets, Functions and their Versions.

Behaviour modelled (reference §6):
- A Service is addressable by SID or ``UniqueName``; a taken ``UniqueName`` answers 409
  (code 54301, unconfirmed). ``domain_base`` = ``{unique_name}-{4 digits}``.
- An Environment's ``domain_name`` = ``{domain_base}-{domain_suffix}.twil.io`` (no suffix:
  ``{domain_base}.twil.io``); ``build_sid`` is null until a deployment; Environment
  ``UniqueName`` is unique per service (409, unconfirmed).
- Environment Variables (``…/Environments/{ZE}/Variables``): ``Key`` unique per environment
  (409, unconfirmed), ``Value`` at most 450 bytes (400; reference §6.2); create, list, fetch,
  update, delete. The runtime hands them to Functions as ``context.<Key>`` at once, without a
  deploy (https://www.twilio.com/docs/serverless/functions-assets/functions/variables).
- Assets and Functions are containers (FriendlyName only); their Versions are created on the
  upload host (:mod:`upload`) and listed/fetched here. A Function Version's source is readable
  at ``…/Versions/{ZN}/Content``; an Asset Version's bytes are not (as on Twilio).
Builds and Deployments live in :mod:`serverless_build`.
Must not import: infra.*
"""

from __future__ import annotations

from .errors import SERVICE_NAME_TAKEN, conflict, invalid, not_found
from .fields import FieldMap, assign, boolean, https, links, lookup, text
from .paging import page_v1
from .routing import Call, Reply, RouteTable, created, no_content, ok
from .state import AccountState, Record, iso, now

HOST = "serverless.twilio.com"
SERVICE = "/v1/Services/{ServiceSid}"
routes = RouteTable()

SERVICE_FIELDS: FieldMap = {
    "FriendlyName": ("friendly_name", text),
    "IncludeCredentials": ("include_credentials", boolean),
    "UiEditable": ("ui_editable", boolean),
}


def find_service(state: AccountState, ref: str) -> Record | None:
    """A service by SID or unique name."""
    if ref in state.services:
        return state.services[ref]
    return next((s for s in state.services.values() if s["unique_name"] == ref), None)


def service_of(call: Call, param: str = "ServiceSid") -> Record:
    service = find_service(call.state, call.params[param])
    if service is None:
        raise not_found(call.path)
    return service


def _stamp(record: Record) -> None:
    record["date_updated"] = iso(now())


@routes.route("POST", HOST, "/v1/Services", kind="Service.create")
def create_service(call: Call) -> Reply:
    state, unique = call.state, call.arg("UniqueName") or ""
    if find_service(state, unique):
        raise conflict(f"Service with UniqueName {unique!r} already exists", SERVICE_NAME_TAKEN)
    sid, stamp = state.new_sid("ZS"), iso(now())
    service: Record = {
        "sid": sid, "account_sid": state.account_sid, "friendly_name": call.arg("FriendlyName"),
        "unique_name": unique, "include_credentials": call.flag("IncludeCredentials", True),
        "ui_editable": call.flag("UiEditable", False),
        "domain_base": f"{unique}-{state.sids.digits(sid, 4)}",
        "date_created": stamp, "date_updated": stamp, "url": https(HOST, f"/v1/Services/{sid}"),
        "links": links(HOST, f"/v1/Services/{sid}", {
            "environments": "Environments", "functions": "Functions", "assets": "Assets",
            "builds": "Builds",
        }),
    }  # fmt: skip
    state.services[sid] = service
    return created(service)


@routes.route("GET", HOST, "/v1/Services")
def list_services(call: Call) -> Reply:
    return ok(page_v1(call, list(call.state.services.values()), "services"))


@routes.route("GET", HOST, "/v1/Services/{Sid}")
def fetch_service(call: Call) -> Reply:
    return ok(service_of(call, "Sid"))


@routes.route("POST", HOST, "/v1/Services/{Sid}", kind="Service.update")
def update_service(call: Call) -> Reply:
    service = service_of(call, "Sid")
    if assign(service, call, SERVICE_FIELDS):
        _stamp(service)
    return ok(service)


@routes.route("DELETE", HOST, "/v1/Services/{Sid}", kind="Service.delete")
def delete_service(call: Call) -> Reply:
    sid = service_of(call, "Sid")["sid"]
    state = call.state
    for table in (state.environments, state.variables, state.assets, state.functions, state.builds):
        for child in state.children(table, "service_sid", sid):
            del table[child["sid"]]
    del state.services[sid]
    return no_content()


@routes.route("POST", HOST, f"{SERVICE}/Environments", kind="Environment.create")
def create_environment(call: Call) -> Reply:
    service, state = service_of(call), call.state
    unique, suffix = call.arg("UniqueName") or "", call.arg("DomainSuffix")
    if any(
        e["unique_name"] == unique
        for e in state.children(state.environments, "service_sid", service["sid"])
    ):
        raise conflict(f"Environment with UniqueName {unique!r} already exists", SERVICE_NAME_TAKEN)
    sid, stamp = state.new_sid("ZE"), iso(now())
    domain = f"{service['domain_base']}-{suffix}" if suffix else service["domain_base"]
    base = f"/v1/Services/{service['sid']}/Environments/{sid}"
    environment: Record = {
        "sid": sid, "account_sid": state.account_sid, "service_sid": service["sid"],
        "build_sid": None, "unique_name": unique, "domain_suffix": suffix,
        "domain_name": f"{domain}.twil.io", "custom_domain_name": None,
        "date_created": stamp, "date_updated": stamp, "url": https(HOST, base),
        "links": links(HOST, base, {
            "variables": "Variables", "deployments": "Deployments", "logs": "Logs",
        }),
    }  # fmt: skip
    state.environments[sid] = environment
    return created(environment)


@routes.route("GET", HOST, f"{SERVICE}/Environments")
def list_environments(call: Call) -> Reply:
    sid = service_of(call)["sid"]
    return ok(
        page_v1(
            call, call.state.children(call.state.environments, "service_sid", sid), "environments"
        )
    )


@routes.route("GET", HOST, f"{SERVICE}/Environments/{{Sid}}")
def fetch_environment(call: Call) -> Reply:
    sid = service_of(call)["sid"]
    return ok(lookup(call.state.environments, call.params["Sid"], call, service_sid=sid))


@routes.route("DELETE", HOST, f"{SERVICE}/Environments/{{Sid}}", kind="Environment.delete")
def delete_environment(call: Call) -> Reply:
    sid = service_of(call)["sid"]
    lookup(call.state.environments, call.params["Sid"], call, service_sid=sid)
    del call.state.environments[call.params["Sid"]]
    return no_content()


VARIABLE_VALUE_MAX = 450
ENVIRONMENT = f"{SERVICE}/Environments/{{EnvironmentSid}}"


def _environment_of(call: Call) -> Record:
    sid = service_of(call)["sid"]
    return lookup(call.state.environments, call.params["EnvironmentSid"], call, service_sid=sid)


def _variable_value(call: Call) -> str:
    value = call.arg("Value") or ""
    if len(value.encode("utf-8")) > VARIABLE_VALUE_MAX:
        raise invalid(f"Value must be at most {VARIABLE_VALUE_MAX} bytes")
    return value


@routes.route("POST", HOST, f"{ENVIRONMENT}/Variables", kind="Variable.create")
def create_variable(call: Call) -> Reply:
    environment, state = _environment_of(call), call.state
    key = call.arg("Key") or ""
    if any(v["key"] == key for v in variables_of(state, environment["sid"])):
        raise conflict(f"Variable with Key {key!r} already exists", SERVICE_NAME_TAKEN)
    sid, stamp = state.new_sid("ZV"), iso(now())
    base = f"/v1/Services/{environment['service_sid']}/Environments/{environment['sid']}"
    variable: Record = {
        "sid": sid, "account_sid": state.account_sid,
        "service_sid": environment["service_sid"], "environment_sid": environment["sid"],
        "key": key, "value": _variable_value(call), "date_created": stamp,
        "date_updated": stamp, "url": https(HOST, f"{base}/Variables/{sid}"),
    }  # fmt: skip
    state.variables[sid] = variable
    return created(variable)


def variables_of(state: AccountState, environment_sid: str) -> list[Record]:
    return state.children(state.variables, "environment_sid", environment_sid)


@routes.route("GET", HOST, f"{ENVIRONMENT}/Variables")
def list_variables(call: Call) -> Reply:
    environment = _environment_of(call)
    return ok(page_v1(call, variables_of(call.state, environment["sid"]), "variables"))


def _variable(call: Call) -> Record:
    environment = _environment_of(call)
    return lookup(
        call.state.variables, call.params["Sid"], call, environment_sid=environment["sid"]
    )


@routes.route("GET", HOST, f"{ENVIRONMENT}/Variables/{{Sid}}")
def fetch_variable(call: Call) -> Reply:
    return ok(_variable(call))


@routes.route("POST", HOST, f"{ENVIRONMENT}/Variables/{{Sid}}", kind="Variable.update")
def update_variable(call: Call) -> Reply:
    variable = _variable(call)
    if call.arg("Key") is not None:
        variable["key"] = call.arg("Key")
    if call.arg("Value") is not None:
        variable["value"] = _variable_value(call)
    _stamp(variable)
    return ok(variable)


@routes.route("DELETE", HOST, f"{ENVIRONMENT}/Variables/{{Sid}}", kind="Variable.delete")
def delete_variable(call: Call) -> Reply:
    del call.state.variables[_variable(call)["sid"]]
    return no_content()


def _container_routes(resource: str, segment: str, sid_param: str, version_key: str) -> None:
    """Routes for Assets or Functions (same shape, SID prefix ZH for both)."""
    table_name, versions_name = f"{segment.lower()}", f"{resource.lower()}_versions"
    owner_key = f"{resource.lower()}_sid"

    def create(call: Call) -> Reply:
        service, state = service_of(call), call.state
        sid, stamp = state.new_sid("ZH"), iso(now())
        base = f"/v1/Services/{service['sid']}/{segment}/{sid}"
        record: Record = {
            "sid": sid, "account_sid": state.account_sid, "service_sid": service["sid"],
            "friendly_name": call.arg("FriendlyName"), "date_created": stamp,
            "date_updated": stamp, "url": https(HOST, base),
            "links": links(HOST, base, {version_key: "Versions"}),
        }  # fmt: skip
        getattr(state, table_name)[sid] = record
        return created(record)

    def listing(call: Call) -> Reply:
        sid = service_of(call)["sid"]
        items = call.state.children(getattr(call.state, table_name), "service_sid", sid)
        return ok(page_v1(call, items, table_name))

    def find(call: Call, param: str = "Sid") -> Record:
        service_sid = service_of(call)["sid"]
        return lookup(
            getattr(call.state, table_name), call.params[param], call, service_sid=service_sid
        )

    def update(call: Call) -> Reply:
        record = find(call)
        if assign(record, call, {"FriendlyName": ("friendly_name", text)}):
            _stamp(record)
        return ok(record)

    def delete(call: Call) -> Reply:
        del getattr(call.state, table_name)[find(call)["sid"]]
        return no_content()

    def list_versions(call: Call) -> Reply:
        owner = find(call, sid_param)
        items = call.state.children(getattr(call.state, versions_name), owner_key, owner["sid"])
        return ok(page_v1(call, items, version_key))

    def fetch_version(call: Call) -> Reply:
        owner = find(call, sid_param)
        return ok(
            lookup(
                getattr(call.state, versions_name),
                call.params["Sid"],
                call,
                **{owner_key: owner["sid"]},
            )
        )

    collection, item = f"{SERVICE}/{segment}", f"{SERVICE}/{segment}/{{Sid}}"
    versions = f"{SERVICE}/{segment}/{{{sid_param}}}/Versions"
    routes.route("POST", HOST, collection, kind=f"{resource}.create")(create)
    routes.route("GET", HOST, collection)(listing)
    routes.route("GET", HOST, item)(lambda call: ok(find(call)))
    routes.route("POST", HOST, item, kind=f"{resource}.update")(update)
    routes.route("DELETE", HOST, item, kind=f"{resource}.delete")(delete)
    routes.route("GET", HOST, versions)(list_versions)
    routes.route("GET", HOST, f"{versions}/{{Sid}}")(fetch_version)


_container_routes("Asset", "Assets", "AssetSid", "asset_versions")
_container_routes("Function", "Functions", "FunctionSid", "function_versions")


@routes.route("GET", HOST, f"{SERVICE}/Functions/{{FunctionSid}}/Versions/{{Sid}}/Content")
def fetch_function_content(call: Call) -> Reply:
    service_sid = service_of(call)["sid"]
    version = lookup(
        call.state.function_versions, call.params["Sid"], call,
        service_sid=service_sid, function_sid=call.params["FunctionSid"],
    )  # fmt: skip
    return ok({
        key: version[key] for key in ("sid", "account_sid", "service_sid", "function_sid")
    } | {
        "content": call.state.files[version["sid"]].data.decode("utf-8", errors="replace"),
        "url": version["url"] + "/Content",
    })  # fmt: skip
