"""EPUBCheck (the W3C's EPUB validator, Debian's `epubcheck` package) as the tests run it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JAR = Path("/usr/share/java/epubcheck.jar")
# One short run per book: the client compiler alone and the serial collector start the JVM about
# twice as fast on 2 cores as its defaults (3.7-5 s against 9-10 s for one book), same verdict.
JAVA = ("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(JAR))


def available() -> bool:
    return JAR.is_file() and shutil.which("java") is not None


required = pytest.mark.skipif(not available(), reason="epubcheck is not installed")


def run(path: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*JAVA, str(path)], capture_output=True, text=True, timeout=timeout, check=False)


def assert_valid(path: Path) -> None:
    """EPUBCheck reports no error and no fatal error for `path` (warnings allowed)."""
    done = run(path)
    assert done.returncode == 0 and " 0 errors" in done.stdout, (path.name, done.stdout + done.stderr)
