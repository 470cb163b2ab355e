"""The PostgreSQL server the job-store tests use: `.ci/run` starts one and sets BITEXT_TEST_DATABASE_URL.

Without it (local dev without PostgreSQL) those tests skip; under CI=true they fail instead, so a
CI that lost its database cannot pass by skipping.
"""

from __future__ import annotations

import os

import pytest

URL_VARIABLE = "BITEXT_TEST_DATABASE_URL"


def database_url() -> str:
    """A reachable server's URL with an empty `bitext_jobs` table, or skip (fail on CI)."""
    url = os.environ.get(URL_VARIABLE, "")
    try:
        import psycopg

        if not url:
            raise RuntimeError(f"{URL_VARIABLE} is not set")
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as db:
            db.execute("DROP TABLE IF EXISTS bitext_jobs")
    except Exception as error:  # noqa: BLE001 - any reason the server cannot be used
        message = f"no PostgreSQL for the job-store tests ({type(error).__name__}: {error}); .ci/run starts one"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url
