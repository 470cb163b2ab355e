"""A JSONL file as an archive: one document per non-blank line (`common.jsonl_lines`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from service.jobs.readers.common import CHUNK, Budget, Entry, jsonl_lines


def read_jsonl(path: Path, budget: Budget) -> Iterator[Entry]:
    with open(path, "rb") as stream:
        yield from jsonl_lines(path.name, stream, budget)


def count_jsonl(path: Path, budget: Budget) -> Iterator[int]:
    """1 per line that `read_jsonl` yields an entry for (a non-blank line, or one over the cap), as found."""
    cap = budget.caps.max_member_bytes
    with open(path, "rb") as stream:
        while line := stream.readline(cap + 1):
            budget.entry()
            over = len(line) > cap
            yield int(over or bool(line.strip()))
            while over and line and not line.endswith(b"\n"):  # the rest of an over-long line
                line = stream.readline(CHUNK)
