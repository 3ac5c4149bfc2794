"""A loopback HTTP front for one Serverless domain of the double, for a real browser.

``http://127.0.0.1:<port>/<path>?<query>`` is answered as Twilio's runtime would answer
``https://<domain>/<path>?<query>`` (:func:`.runtime.serve` through ``VoiceNetwork.request``,
unsigned, as a phone browser sends it): GET with the query, POST with the query and the
url-encoded form. The Function's status, ``Content-Type``, ``Location`` and ``Cache-Control``
headers and body go back to the browser. Binds 127.0.0.1 only. Must not import: infra.*
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FORWARDED_HEADERS = ("Content-Type", "Location", "Cache-Control", "Referrer-Policy")


class BrowserFront:
    """Serve ``domain`` of ``double`` on a loopback port; use as a context manager."""

    def __init__(self, double: Any, domain: str) -> None:
        self.double, self.domain = double, domain
        self.requests: list[tuple[str, str]] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                front._answer(self, "GET", {})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8")))
                front._answer(self, "POST", form)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def local(self, url: str) -> str:
        """The loopback address of a ``https://<domain>/…`` URL."""
        parts = urlsplit(url)
        assert parts.hostname == self.domain, url
        return f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, form: dict[str, str]) -> None:
        parts = urlsplit(handler.path)
        self.requests.append((method, handler.path))
        if parts.path == "/favicon.ico":
            fetched_status, body, headers = 404, "", {"Content-Type": "text/plain"}
        elif method == "GET":
            url = f"https://{self.domain}{handler.path}"
            fetched = self.double.voice.request(url, "GET", {}, signed=False)
            fetched_status, body, headers = fetched.status, fetched.body, fetched.headers
        else:
            params = {**dict(parse_qsl(parts.query)), **form}
            url = f"https://{self.domain}{parts.path}"
            fetched = self.double.voice.request(url, "POST", params, signed=False)
            fetched_status, body, headers = fetched.status, fetched.body, fetched.headers
        data = (body or "").encode("utf-8")
        handler.send_response(fetched_status or 502)
        for name in FORWARDED_HEADERS:
            if name in headers:
                handler.send_header(name, headers[name])
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def __enter__(self) -> BrowserFront:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
