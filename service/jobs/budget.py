"""How many bytes one run of a batch may still write: its outputs' cap, counted across resumes."""

from __future__ import annotations

from pathlib import Path

from service.jobs import limits, outputs
from service.jobs.records import Record


class OutputBudget:
    """Bytes one run may still write (JSON + HTML of its documents); `limit` None: no cap."""

    def __init__(self, limit: int | None, used: int = 0) -> None:
        self.limit, self.used = limit, used

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def take(self, size: int) -> bool:
        """Count `size` bytes if they fit; False (and nothing counted) when they would pass the cap."""
        if self.limit is not None and self.used + size > self.limit:
            self.used = max(self.used, self.limit)  # once one document is refused, so is every later one
            return False
        self.used += size
        return True

    def refusal(self, ident: str, name: str) -> Record:
        return Record.refused(
            ident, name, limits.OUTPUT_QUOTA, f"the job's outputs reached their limit of {self.limit} bytes"
        )


def written_bytes(outdir: Path) -> int:
    """What earlier runs of this OUTDIR wrote into docs/ (a resumed job keeps counting from there)."""
    docs = outdir / outputs.DOCS
    return sum(path.stat().st_size for path in docs.iterdir() if path.is_file()) if docs.is_dir() else 0
