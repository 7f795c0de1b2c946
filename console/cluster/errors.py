"""One readable line for any error the API client raises.

The API server's own words come first: the `message` of the Status body
(403, 404, 409, 422 ...). Transport failures become "cannot reach ...".
"""

from __future__ import annotations

import json

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from console.errors import UsageError


def status_message(body) -> str | None:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        text = str(body).strip().splitlines()
        return text[0][:300] if text else None
    if isinstance(data, dict):
        return data.get("message") or data.get("reason")
    return None


def credential_problem(exc: BaseException) -> str | None:
    """"credentials refused (401 Unauthorized)" or "the server's certificate does not
    verify (...)" when that is why a request failed; None for anything else (a
    server that is down, a 403, a timeout)."""
    if isinstance(exc, ApiException) and exc.status == 401:
        return "credentials refused (401 Unauthorized)"
    text = str(getattr(exc, "reason", None) or exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        why = text.split("certificate verify failed:", 1)[-1].split("(")[0].strip(" )'\"")
        return f"the server's certificate does not verify ({why or 'CERTIFICATE_VERIFY_FAILED'})"
    return None


def message_of(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        msg = status_message(exc.body)
        if msg:
            return msg
        if exc.status:
            return f"{exc.status} {exc.reason or ''}".strip()
        return f"cannot reach the API server: {exc.reason}"
    if isinstance(exc, Urllib3Error):
        reason = getattr(exc, "reason", None) or exc
        text = str(reason)
        if "Connection refused" in text or "NewConnectionError" in text:
            return "cannot reach the API server: connection refused"
        if "timed out" in text.lower():
            return "cannot reach the API server: timed out"
        return f"connection lost: {text.splitlines()[0][:200]}"
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return f"connection lost: {exc}"
    if isinstance(exc, UsageError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def transient(exc: BaseException) -> bool:
    """Worth trying again: the connection, a timeout, 429, 5xx, a write conflict (409).
    client-go's retry helpers treat the same as retriable."""
    if isinstance(exc, ApiException):
        return exc.status in (0, None, 409, 429) or (exc.status or 0) >= 500
    return isinstance(exc, (Urllib3Error, ConnectionError, TimeoutError, OSError))
