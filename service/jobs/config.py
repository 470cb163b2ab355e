"""What one batch run may do, as one value: the archive caps, the group bounds, the per-document and
output limits, the layouts, the subtitle style. `Settings.batch_config()` builds it (the CLI, the jobs API and
Ray alike); its defaults are the settings' defaults, written here once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from service.formats import DEFAULT_CUE_STYLE, DEFAULT_LAYOUT, CueStyle, Layout
from service.jobs.limits import Limits


class Held(Protocol):
    """A document waiting for its group: its sentences to translate and the memory it holds."""

    @property
    def pieces(self) -> tuple[str, ...]: ...

    @property
    def size(self) -> int: ...


@dataclass(frozen=True, slots=True)
class GroupBounds:
    """When a group of waiting documents is translated: enough sentences for a full engine call, or
    enough documents or bytes held in memory (documents with nothing to translate count too)."""

    sentences: int | None = None  # unset: enough to fill the engine's largest call on its device
    documents: int = 256
    bytes: int = 64_000_000  # what the documents hold (their text as parsed), not their upload size

    def full(self, group: Sequence[Held], sentences: int) -> bool:
        """`sentences`: the bound in force (`sentences`, or the engine's own size when unset)."""
        return (
            len(group) >= self.documents
            or sum(len(p.pieces) for p in group) >= sentences
            or sum(p.size for p in group) >= self.bytes
        )


@dataclass(frozen=True, slots=True)
class BatchConfig:
    caps: Limits = field(default_factory=Limits)
    groups: GroupBounds = field(default_factory=GroupBounds)
    max_sentences: int | None = None  # per document; more is skipped as too_many_sentences
    max_output_bytes: int | None = None  # JSON, HTML and files one run may write; None: no cap
    layouts: tuple[Layout, ...] = (DEFAULT_LAYOUT,)  # names are read as `Layout`s: an unknown one is a ValueError
    subtitle_style: CueStyle = DEFAULT_CUE_STYLE  # how a bilingual subtitle's English line is set apart

    def __post_init__(self) -> None:
        layouts = tuple(dict.fromkeys(Layout(name) for name in self.layouts))
        object.__setattr__(self, "layouts", layouts or (DEFAULT_LAYOUT,))
