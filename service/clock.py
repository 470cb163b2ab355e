"""The one wall-clock timestamp format bitext writes: UTC ISO 8601 to the second.

Job rows and manifest records compare these as text (a lease is `updated < stale_before(...)`),
which works because every writer uses this one format.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def seconds_ago(seconds: float) -> str:
    """The timestamp `seconds` before now, in the same format as `now()`."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")
