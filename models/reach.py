"""Is a hub endpoint reachable? One quick request, so an offline host learns it in seconds.

The Hugging Face client retries a refused or timed-out connection with back-off (six "Retrying in
8s" over half a minute) before it gives up; asking once first tells an unreachable hub apart from one
that answers (any HTTP status but a gateway's 502, 503, 504). Two limits: the connection (through a
proxy's tunnel too) must open within a few seconds, as it does on any working network, while the
answer may take longer, so a slow hub is not counted as down. The standard library's client (proxies
from the environment, as the hub's own): `models/` imports no web stack.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request

REACH_TIMEOUT_SECONDS = 3.0  # to open the connection
ANSWER_TIMEOUT_SECONDS = 15.0  # then for its answer
GATEWAY_ERRORS = (502, 503, 504)


class _Answered:
    """An HTTP(S) connection that waits `answer` seconds for the answer once connected within its timeout."""

    answer = ANSWER_TIMEOUT_SECONDS

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock.settimeout(self.answer)  # type: ignore[attr-defined]


def _opener(answer: float) -> urllib.request.OpenerDirector:
    class HTTP(_Answered, http.client.HTTPConnection):
        pass

    class HTTPS(_Answered, http.client.HTTPSConnection):
        pass

    HTTP.answer = HTTPS.answer = answer

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTP, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTPS, req)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def unreachable(
    endpoint: str, timeout: float = REACH_TIMEOUT_SECONDS, answer_timeout: float = ANSWER_TIMEOUT_SECONDS
) -> str | None:
    """None when `endpoint` accepts a connection within `timeout` seconds and then answers an HTTP
    request within `answer_timeout`; else why not, in a few words."""
    request = urllib.request.Request(endpoint, method="HEAD")
    try:
        with _opener(answer_timeout).open(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as error:
        if error.code in GATEWAY_ERRORS:  # a proxy or the hub's front saying the hub itself is not there
            return f"it answered {error.code} {error.reason}"
        return None  # it answered, with an error status: reachable
    except TimeoutError:  # connected (a connection timing out is a URLError): the answer did not come
        return f"connected, but no answer within {answer_timeout:g} s"
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            return f"no connection within {timeout:g} s"
        return str(reason) if str(reason) else type(reason).__name__
    except (OSError, ValueError) as error:
        return str(error) or type(error).__name__
