"""TwilioDouble: a stateful local Twilio API for tests, checked against Twilio's OpenAPI files.

Usage::

    with TwilioDouble() as d:                       # listening on 127.0.0.1:<free port>
        number = d.seed_number("+14155550100", voice_url="https://example.com/voice")
        client = d.client()                          # twilio.rest.Client aimed at the double
        client.api.v2010.account.incoming_phone_numbers(number["sid"]).update(
            voice_fallback_url="https://example.com/fallback", voice_fallback_method="POST")
        assert d.writes()["IncomingPhoneNumber.update"] == 1
        assert not d.violations

Each product is served under a path prefix named after its real host, so a client configured
with ``client.studio.base_url = d.product_url("studio.twilio.com")`` (TWILIO_REGION/EDGE unset)
uses real Twilio paths. Credentials: ``d.account_sid``/``d.auth_token`` or a pair from
``d.add_api_key()``; anything else gets 401 (20003).

Introspection: ``state`` (:class:`~.state.AccountState`), ``requests``
(:class:`~.recording.RecordedRequest`), ``writes()`` (Counter by kind, see
:mod:`.recording`), ``deletes_of_numbers()``, ``violations`` / ``take_violations()``,
``deployed_content(env, path)``, ``explain()``; ``on_write(watcher)`` to check an invariant
after every applied write. Faults: ``d.faults`` (:mod:`.faults`). Twilio's documented limits:
``d.limits`` (:mod:`.limits`).
Must not import: infra.*
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from . import (
    calls,
    control,
    dialing,
    messaging,
    monitor,
    numbers,
    serverless,
    serverless_build,
    studio,
    taskrouter,
    tasks_api,
    upload,
    web,
    workspaces,
)
from .contract import ContractChecker
from .dispatch import KNOWN_HOSTS, Dispatcher
from .faults import Faults
from .limits import Limits, Values
from .recording import Ledger, RecordedRequest, Violation
from .routing import RouteTable, Settings
from .server import DoubleHTTPServer
from .spec_files import ensure_specs
from .state import AccountState, Record, SidFactory, Upload, now, rfc2822
from .voice import VoiceNetwork

PRODUCT_DOMAINS = {
    "api": "api.twilio.com",
    "studio": "studio.twilio.com",
    "taskrouter": "taskrouter.twilio.com",
    "serverless": "serverless.twilio.com",
    "voice": "voice.twilio.com",
    "monitor": "monitor.twilio.com",
}


_NUMBER_ITEM = re.compile(r"/2010-04-01/Accounts/[^/]+/IncomingPhoneNumbers/[^/]+\.json")


def all_routes() -> RouteTable:
    table = RouteTable()
    for module in (
        numbers,
        calls,
        studio,
        serverless,
        serverless_build,
        upload,
        taskrouter,
        workspaces,
        tasks_api,
        dialing,
        monitor,
    ):
        table.extend(module.routes)
    return table


class TwilioDouble:
    """One fake Twilio account and the loopback server that exposes it (see module doc)."""

    def __init__(
        self, *, seed: int = 0, build_reads: int = 1, port: int = 0,
        spec_dir: Path | None = None, verbose: bool = False,
        limits: Values | Mapping[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """``seed`` makes SIDs and credentials reproducible; ``build_reads`` is how many reads
        of a new Serverless build answer ``building`` before its final status; ``port`` 0
        picks a free one; ``spec_dir`` overrides where the OpenAPI files are read from;
        ``limits`` changes Twilio's documented limits (:mod:`.limits`), also at runtime
        through ``d.limits.set(…)``."""
        sids = SidFactory(seed)
        self.account_sid = sids.new("AC")
        self.auth_token = sids.new("")
        self.state = AccountState(self.account_sid, sids)
        self.faults = Faults()
        self.limits = Limits(limits)
        self._lock = threading.RLock()
        self._ledger = Ledger()
        self._api_keys: dict[str, str] = {}
        self._port, self._verbose = port, verbose
        self._server: DoubleHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.voice = VoiceNetwork(self.state, self.auth_token, self._lock, self.limits)
        tasks_api.register(self.state, lambda: self.voice.taskrouter)
        self._dispatcher = Dispatcher(
            state=self.state, lock=self._lock, routes=all_routes(),
            settings=Settings(build_reads=build_reads), faults=self.faults, ledger=self._ledger,
            checker=ContractChecker(spec_dir or ensure_specs()),
            credentials=self._credentials, base_url=lambda: self.base_url, limits=self.limits,
        )  # fmt: skip
        self.voice.api = self._dispatcher.handle

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> TwilioDouble:
        if self._server is None:
            self._server = DoubleHTTPServer(self._port, self._dispatcher, verbose=self._verbose)
            self._server.control = lambda incoming: control.handle(self.voice, incoming)
            self._server.web = lambda incoming: web.handle(self.voice, incoming)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name="twilio-double", daemon=True,
            )  # fmt: skip
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stopping.set()
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> TwilioDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and credentials ---------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Twilio double is not started; call start() or use `with`")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def product_url(self, host: str) -> str:
        if host not in KNOWN_HOSTS:
            raise ValueError(f"unknown Twilio host {host!r}; known: {sorted(KNOWN_HOSTS)}")
        return f"{self.base_url}/{host}"

    def add_api_key(self, secret: str | None = None) -> tuple[str, str]:
        """A new API key pair (``SK…``, secret) accepted as Basic auth like the auth token;
        ``secret`` chooses the secret (default: a random one)."""
        with self._lock:
            sid = self.state.sids.new("SK")
            secret = secret or self.state.sids.new("")
            self._api_keys[sid] = secret
        return sid, secret

    def _credentials(self) -> dict[str, str]:
        return {self.account_sid: self.auth_token, **self._api_keys}

    def client(
        self,
        *,
        timeout: float | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> Any:
        """A ``twilio.rest.Client`` with every product domain aimed at this double."""
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(
            username or self.account_sid, password or self.auth_token,
            account_sid=self.account_sid, http_client=TwilioHttpClient(timeout=timeout),
        )  # fmt: skip
        client.region = client.edge = None  # a region/edge would rewrite our 127.0.0.1 host
        for attribute, host in PRODUCT_DOMAINS.items():
            getattr(client, attribute).base_url = self.product_url(host)
        return client

    # -- seeding (no request is recorded) --------------------------------------------------
    def seed_number(
        self, phone_number: str, *, voice_url: str | None = None, voice_method: str = "POST",
        voice_fallback_url: str | None = None, voice_application_sid: str | None = None,
        trunk_sid: str | None = None, friendly_name: str | None = None, **fields: Any,
    ) -> Record:  # fmt: skip
        """An existing number (snake_case fields as Twilio returns them); returns a copy."""
        with self._lock:
            record = numbers.new_number(
                self.state, phone_number, voice_url=voice_url, voice_method=voice_method,
                voice_fallback_url=voice_fallback_url, voice_application_sid=voice_application_sid,
                trunk_sid=trunk_sid, friendly_name=friendly_name, **fields,
            )  # fmt: skip
            return dict(record)

    def seed_numbers(self, phone_numbers: Iterable[str], **fields: Any) -> list[Record]:
        return [self.seed_number(e164, **fields) for e164 in phone_numbers]

    def edit_number(self, sid_or_e164: str, **fields: Any) -> Record:
        """Simulate a console edit (drift): change fields directly, record no API write."""
        unknown = set(fields) - numbers.EDITABLE
        if unknown:
            raise TypeError(f"unknown IncomingPhoneNumber fields: {sorted(unknown)}")
        with self._lock:
            record = numbers.find_number(self.state, sid_or_e164)
            record.update(fields, date_updated=rfc2822(now()))
            return dict(record)

    def set_dialing_permission(self, iso_code: str, enabled: bool) -> None:
        """Allow or forbid calls to low-risk numbers of a country (Voice Dialing Geographic
        Permissions, as changed in the Console); the US and Canada are allowed at first."""
        with self._lock:
            dialing.set_permission(self.state, iso_code, enabled)

    def seed_call(self, *, from_: str, to: str, **fields: Any) -> Record:
        with self._lock:
            return dict(calls.new_call(self.state, from_=from_, to=to, **fields))

    def seed_recording(
        self, *, call_sid: str | None = None, from_: str | None = None, to: str | None = None,
        duration: int = 30, date_created: datetime | None = None,
    ) -> Record:  # fmt: skip
        """A completed recording; without ``call_sid`` a call ``from_`` → ``to`` is seeded."""
        with self._lock:
            if call_sid is None:
                if not (from_ and to):
                    raise TypeError("seed_recording needs call_sid, or from_ and to")
                call_sid = calls.new_call(
                    self.state, from_=from_, to=to, duration=duration, start_time=date_created
                )["sid"]
            record = calls.new_recording(
                self.state, call_sid=call_sid, duration=duration, date_created=date_created
            )
            return dict(record)

    def seed_alert(self, **fields: Any) -> Record:
        """A Monitor alert (``error_code``, ``request_url``, ``resource_sid``,
        ``date_created``, ...; see :func:`.monitor.new_alert`)."""
        with self._lock:
            return dict(monitor.new_alert(self.state, **fields))

    def place_call(self, to: str, from_: str = "+15005550006", **script: Any) -> Any:
        """Place an inbound call to ``to`` and return its :class:`~.callflow.Journey`;
        ``primary=``, ``callees=``, ``caller=`` as in :meth:`.voice.VoiceNetwork.place_call`."""
        return self.voice.place_call(to, from_, **script)

    def send_message(
        self, to: str, from_: str = "+15005550006", body: str = "Hello",
        *, primary: Any = None,
    ) -> messaging.MessageJourney:  # fmt: skip
        """Deliver an inbound SMS to ``to`` and return what happened (:mod:`.messaging`);
        ``primary`` scripts the number's SMS URL (``"http_500"``, an ``Answer``...)."""
        with self._lock:
            number = numbers.find_number(self.state, to)
            return messaging.receive(self.voice, number, from_, body, primary)

    def on_write(self, watcher: Callable[[str, AccountState], None]) -> None:
        """Call ``watcher(kind, state)`` after every applied write (``kind`` as in
        :meth:`writes`), under the double's lock, so it sees each intermediate state exactly
        as a concurrent client could. Keep it quick; record problems rather than raise (an
        exception becomes a 500 and a violation)."""
        self._dispatcher.watchers.append(watcher)

    # -- introspection ---------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self._ledger.requests)

    @property
    def violations(self) -> list[Violation]:
        return list(self._ledger.violations)

    def take_violations(self) -> list[Violation]:
        """Return and forget the violations (for tests that provoke them on purpose)."""
        taken = self.violations
        del self._ledger.violations[: len(taken)]
        return taken

    def writes(self) -> Counter[str]:
        return self._ledger.writes()

    def deletes_of_numbers(self) -> list[RecordedRequest]:
        """Every DELETE aimed at an IncomingPhoneNumber (answered or not). Must stay empty."""
        return [
            r
            for r in self.requests
            if r.method == "DELETE" and r.host == numbers.HOST and _NUMBER_ITEM.fullmatch(r.path)
        ]

    def deployed_files(self, environment: str) -> dict[str, Upload]:
        """Path -> file the environment (SID, domain or unique name) currently serves."""
        with self._lock:
            return serverless_build.deployed_files(self.state, environment)

    def deployed_content(self, environment: str, path: str) -> bytes | None:
        served = self.deployed_files(environment).get(path)
        return served.data if served else None

    def explain(self) -> str:
        """Everything received and every violation, one per line (for assertion messages)."""
        lines = [f"{len(self.requests)} request(s):", *(f"  {r}" for r in self.requests)]
        lines += [f"{len(self.violations)} violation(s):", *(f"  {v}" for v in self.violations)]
        return "\n".join(lines)
