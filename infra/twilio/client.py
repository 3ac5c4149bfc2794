"""The one door to Twilio: a client per call with retries, uploads and error translation.

Why one module: the HTTP behaviour (timeouts, which failures are retried) must be the same for
every resource and every account read, and Twilio failures are translated into
``ProviderError`` exactly once, here. Only ``infra.twilio`` imports ``twilio.rest``,
``twilio.http`` and ``twilio.base`` (an import-linter contract holds it), always inside
functions, so importing this module stays cheap.

- Retries (urllib3 ``Retry``, mounted for https:// and http://): HTTP 429 for every method,
  honouring ``Retry-After`` (Twilio never processed the request; docs: errors/20429); failed
  connections for every method (nothing was sent); 5xx and read errors only for
  GET/HEAD/DELETE, which are safe to repeat. A POST that may have reached Twilio is never sent
  twice: creates are made safe by looking up the unique name first.
- Concurrency: every request (and its retries, ``Retry-After`` waits included) holds a slot
  of the account's gate (``infra.twilio.concurrency.account_gate``), so at most
  ``settings.concurrency`` requests are in flight to the account from this process, however
  many threads issue them.
- Errors: ``ProviderError`` naming the subject (the line or stack resource), the action,
  HTTP status, Twilio code and docs link. Never ``str(exc)`` (it adds terminal colours),
  never a credential.

Must not import: pulumi, infra.model, infra.lines, infra.render, infra.program, infra.cli,
infra.providers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from infra.errors import ProviderError
from infra.redact import scrub
from infra.stack import Settings, StackFile, cli_settings

MAX_RETRY_AFTER_S = 60.0
UPLOAD_HOST = "serverless-upload.twilio.com"
_SAFE_METHODS = frozenset({"GET", "HEAD", "DELETE"})


class NotFoundError(ProviderError):
    """Twilio answered 404: the resource is gone (callers decide whether that is fine)."""


class Twilio:
    """One Twilio client for one provider call: REST client, uploads and error translation."""

    def __init__(self, settings: Settings) -> None:
        from twilio.rest import Client

        self._settings = settings
        self.account_sid = settings.account_sid
        self.base_url = settings.base_url or ""
        self.concurrency = settings.concurrency
        """Requests in flight at once to the account (helpers use it as their limit)."""
        self._http = _make_http_client(settings)
        self.rest = Client(
            settings.username,
            settings.password,
            account_sid=settings.account_sid,
            http_client=self._http,
        )
        # Region and edge come only from ``settings`` (``infra.stack``: config, then
        # TWILIO_REGION/TWILIO_EDGE); set after construction because twilio-python reads
        # os.environ for any it is not given. The library then sends every request to
        # ``{product}.{edge}.{region}.twilio.com``
        # (https://www.twilio.com/docs/global-infrastructure/using-the-twilio-rest-api-in-a-non-us-region).
        self.rest.region = settings.region
        self.rest.edge = settings.edge
        if settings.base_url:
            # Region/edge would rewrite every host, including the override (twilio.md §8.2).
            self.rest.region = None
            self.rest.edge = None

    @contextmanager
    def errors(self, subject: str, action: str, *, writes: bool = True) -> Iterator[None]:
        """Translate any Twilio or network failure inside the block into ``ProviderError``.

        ``writes=False`` for read-only callers (drift, import): their network failures
        cannot have left anything half-changed, and the message says so.
        """
        from requests import RequestException
        from twilio.base.exceptions import TwilioException

        try:
            yield
        except (TwilioException, RequestException) as exc:
            raise self._translate(exc, subject, action, writes=writes) from None

    def upload(
        self, path: str, fields: dict[str, str], filename: str, content: bytes, content_type: str
    ) -> dict[str, Any]:
        """POST a multipart Version upload to serverless-upload (not in twilio-python)."""
        from twilio.base.exceptions import TwilioRestException

        url = self._http.rewrite(self.upload_url(path))
        with self._http.gate:
            response = self._http.session.post(
                url,
                data=fields,
                files={"Content": (filename, content, content_type)},
                auth=(self._settings.username, self._settings.password),
                timeout=self._settings.timeout_s,
                headers={"Accept": "application/json"},
            )
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code >= 400:
            raise TwilioRestException(
                response.status_code,
                url,
                msg=str(body.get("message", "upload failed")),
                code=body.get("code"),
                method="POST",
                details=body.get("details"),
            )
        return body

    def upload_url(self, path: str) -> str:
        """The upload host for ``path``, in the stack's region and edge like every other host:
        twilio-python's own rule (``ClientBase.get_hostname``), so an ie1/dublin stack uploads
        to ``serverless-upload.dublin.ie1.twilio.com``. Unconfirmed: Twilio documents
        Functions and Assets in IE1 and the ``{product}.{edge}.{region}`` pattern, not this
        host by name (README "Verify on a live account first")."""
        return str(self.rest.get_hostname(f"https://{UPLOAD_HOST}{path}"))

    def _translate(
        self, exc: Exception, subject: str, action: str, *, writes: bool = True
    ) -> ProviderError:
        from twilio.base.exceptions import (
            TwilioException,
            TwilioRestException,
            TwilioServiceException,
        )

        if type(exc) is TwilioException and len(exc.args) > 1 and hasattr(exc.args[1], "text"):
            exc = _page_error(exc.args[1])  # a list page failed: "Unable to fetch page"
        if isinstance(exc, TwilioRestException | TwilioServiceException):
            status = int(exc.status) if exc.status is not None else None
            code = exc.code if isinstance(exc.code, int) and exc.code >= 10000 else None
            if isinstance(exc, TwilioRestException):
                message = str(exc.msg or "request failed")
                message += _format_details(exc.details)
            else:
                message = str(exc.detail or exc.title or "request failed")
            kind = NotFoundError if status == 404 else ProviderError
            path = self._redact(urlsplit(str(exc.uri or "")).path)
            return kind(
                subject,
                self._redact(f"{action} failed: {message}"),
                status=status,
                code=code,
                method=str(exc.method or "") if path else "",
                uri=path,
            )
        advice = (
            "The change may be incomplete; run again to converge (creates look up existing "
            "resources first)"
            if writes
            else "Nothing was changed; check the network and run again"
        )
        return ProviderError(
            subject, f"{action} failed: could not reach Twilio ({type(exc).__name__}). {advice}"
        )

    def _redact(self, text: str) -> str:
        """No secret in a message: the password, nor credentials of a URL Twilio repeats."""
        secret = self._settings.password
        return scrub(text.replace(secret, "[redacted]") if secret else text)


def _page_error(response: Any) -> Exception:
    """The error body of a failed list page, as the exception a fetch would have raised."""
    from twilio.base.exceptions import TwilioRestException

    try:
        body = json.loads(response.text)
    except (TypeError, ValueError):
        body = {}
    body = body if isinstance(body, dict) else {}
    return TwilioRestException(
        int(response.status_code),
        "",
        msg=str(body.get("message", "") or "list request failed"),
        code=body.get("code"),
        method="GET",
    )


def _format_details(details: object) -> str:
    """Studio validation (81022) lists failures in ``details.errors``: show path and message."""
    if not isinstance(details, dict):
        return ""
    items = []
    for error in details.get("errors") or []:
        if isinstance(error, dict):
            where = error.get("property_path") or error.get("pointer") or ""
            items.append(f"{where}: {error.get('message') or error.get('detail') or ''}".strip())
    return f" [{'; '.join(items)}]" if items else ""


def _make_http_client(settings: Settings) -> Any:
    from requests.adapters import HTTPAdapter
    from twilio.http.http_client import TwilioHttpClient
    from urllib3.util.retry import Retry

    from infra.twilio.concurrency import account_gate

    class RetryPolicy(Retry):
        """429 and connect errors for any method; 5xx and read errors only when safe."""

        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if status_code == 429:
                return True
            return method.upper() in _SAFE_METHODS and status_code in (500, 502, 503, 504)

        def increment(  # type: ignore[override]
            self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any
        ) -> Retry:
            error = kwargs.get("error")
            if (
                error is not None
                and self._is_read_error(error)
                and ((method or "").upper() not in _SAFE_METHODS)
            ):
                # The request may have reached Twilio: never send a write twice.
                return Retry.increment(self.new(read=False), method, url, *args, **kwargs)
            return super().increment(method, url, *args, **kwargs)

        def parse_retry_after(self, retry_after: str) -> float:
            # Accept fractional seconds too; an unreadable header falls back to backoff (0).
            try:
                seconds = float(retry_after)
            except ValueError:
                try:
                    seconds = super().parse_retry_after(retry_after)
                except Exception:  # noqa: BLE001 - urllib3's InvalidHeader
                    seconds = 0.0
            return max(0.0, min(seconds, MAX_RETRY_AFTER_S))

    retry = RetryPolicy(
        total=10,
        connect=3,
        read=2,
        status=8,
        other=0,
        allowed_methods=None,
        backoff_factor=0.25,
        backoff_max=4.0,
        respect_retry_after_header=True,
        raise_on_status=False,
    )

    class HttpClient(TwilioHttpClient):
        """Twilio's client with retries on http:// too and every host moved under a base URL."""

        def __init__(self) -> None:
            super().__init__(timeout=settings.timeout_s, max_retries=retry)
            # One kept-alive connection per request in flight (requests keeps 10 per host by
            # default: more would be opened and closed for every request).
            pool = max(10, settings.concurrency)
            for scheme in ("https://", "http://"):
                self.session.mount(scheme, HTTPAdapter(max_retries=retry, pool_maxsize=pool))
            self.gate = account_gate(settings)

        def rewrite(self, url: str) -> str:
            if not settings.base_url:
                return url
            parts = urlsplit(url)
            if (
                parts.scheme == "https"
                and parts.hostname
                and parts.hostname.endswith(".twilio.com")
            ):
                rest = url[len(f"{parts.scheme}://{parts.netloc}") :]
                return f"{settings.base_url}/{parts.hostname}{rest}"
            return url

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            with self.gate:
                return super().request(method, self.rewrite(url), *args, **kwargs)

    return HttpClient()


def connect(
    environ: Mapping[str, str], concurrency: int | None = None, stack: StackFile | None = None
) -> Twilio:
    """A Twilio client for one CLI run (credentials: ``infra.stack.cli_settings``, the stack
    file's plain keys first when given; a given ``concurrency`` wins over
    ``FAILOVER_CONCURRENCY``); no request is made yet."""
    return Twilio(cli_settings(environ, concurrency, stack))
