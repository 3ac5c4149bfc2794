"""The double's HTTP side: a loopback ThreadingHTTPServer that hands every request to a
Dispatcher and performs what it decides, including the socket-level faults (a reset closes
the connection with RST and no response; a hang holds it, then does the same).

HTTP/1.1 with keep-alive, like Twilio, so clients reuse pooled connections. Binds 127.0.0.1
only. Must not import: infra.*
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import control, web
from .dispatch import Dispatcher, Incoming, Outcome
from .errors import error_body
from .recording import Violation

_DISCONNECTS = (ConnectionError, TimeoutError, OSError)


class DoubleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never wait for a hanging request on stop

    def __init__(self, port: int, dispatcher: Dispatcher, *, verbose: bool = False) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.dispatcher = dispatcher
        self.control: Callable[[Incoming], Outcome] | None = None  # /_double/ endpoints
        self.web: Callable[[Incoming], Outcome] | None = None  # non-API hosts (web.py)
        self.stopping = threading.Event()
        self.verbose = verbose

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], _DISCONNECTS):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DoubleHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes; without NODELAY the client's delayed ACK
        # adds ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client went away mid-body (e.g. `pulumi up` interrupted, its provider host
            # killed). An HTTP server never processes a truncated request; serving it would
            # apply a write with an empty form that no client ever sent.
            self.close_connection = True
            return
        incoming = Incoming(self.command, self.path, self.headers, body)
        if self.server.control is not None and control.is_control(self.path):
            outcome = self.server.control(incoming)  # the double's own API: no contract check
        elif self.server.web is not None and web.is_web(self.path):
            outcome = self.server.web(incoming)  # documents and servers, not Twilio's API
        else:
            outcome = self._dispatch(incoming)
        if outcome.status is None:
            if outcome.hang:
                self.server.stopping.wait(outcome.hang)
            self._reset()
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        self.wfile.write(outcome.body)

    def _dispatch(self, incoming: Incoming) -> Outcome:
        """Run the dispatcher; a bug in the double becomes a 500 and a recorded violation."""
        try:
            return self.server.dispatcher.handle(incoming)
        except Exception:  # noqa: BLE001 - must answer and surface any failure of the double
            trace = traceback.format_exc()
            self.server.dispatcher.ledger.add_violation(
                Violation("double", incoming.method, "", incoming.target, (trace,))
            )
            body = error_body(500, 20500, "Twilio double crashed: " + trace.splitlines()[-1])
            return Outcome(500, json.dumps(body).encode(), (("Content-Type", "application/json"),))

    def _reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes the close send RST instead of FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
