"""Is a hub endpoint reachable? One quick request, so an offline host learns it in seconds.

The Hugging Face client retries a refused or timed-out connection with back-off (six "Retrying in
8s" over half a minute) before it gives up; asking once, with a short timeout, first tells an
unreachable hub apart from one that answers (any HTTP status but a gateway's 502, 503, 504). The standard
library's client (proxies from the environment, as the hub's own): `models/` imports no web stack.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

REACH_TIMEOUT_SECONDS = 3.0
GATEWAY_ERRORS = (502, 503, 504)


def unreachable(endpoint: str, timeout: float = REACH_TIMEOUT_SECONDS) -> str | None:
    """None when `endpoint` answers an HTTP request within `timeout` seconds; else why not, in a few words."""
    request = urllib.request.Request(endpoint, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310 - the hub endpoint the user configured
            return None
    except urllib.error.HTTPError as error:
        if error.code in GATEWAY_ERRORS:  # a proxy or the hub's front saying the hub itself is not there
            return f"it answered {error.code} {error.reason}"
        return None  # it answered, with an error status: reachable
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            return f"no answer within {timeout:g} s"
        return str(reason) if str(reason) else type(reason).__name__
    except (OSError, ValueError) as error:
        return str(error) or type(error).__name__
