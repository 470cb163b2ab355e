"""Is a hub endpoint reachable? One quick request, so an offline host learns it in seconds.

The Hugging Face client retries a refused or timed-out connection with back-off (six "Retrying in
8s" over half a minute) before it gives up; asking once, with a short timeout, first tells an
unreachable hub apart from one that answers (any HTTP status counts as an answer).
"""

from __future__ import annotations

REACH_TIMEOUT_SECONDS = 3.0


def unreachable(endpoint: str, timeout: float = REACH_TIMEOUT_SECONDS) -> str | None:
    """None when `endpoint` answers an HTTP request within `timeout` seconds; else why not, in a few words."""
    import httpx

    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            client.head(endpoint)
    except httpx.TimeoutException:
        return f"no answer within {timeout:g} s"
    except (httpx.HTTPError, OSError, ValueError) as error:
        text = str(error).strip().splitlines()
        return text[0] if text else type(error).__name__
    return None
