"""Characters translated through the DeepL routes since start: what `/v2/usage` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from threading import Lock


@dataclass
class Usage:
    """A thread-safe counter; bitext has no billing period, so it only grows until a restart."""

    characters: int = 0
    lock: Lock = field(default_factory=Lock)

    def add(self, count: int) -> None:
        with self.lock:
            self.characters += count
