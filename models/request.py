"""One translation asked for, as one value: the document and everything said about how to translate it.

The server's routes, the stream, the CLI and the batch runner each build a `TranslationRequest`;
`models.plan.plan` turns it into the texts the model is sent, and the plan assembles the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.document import Document
from models.engine import GenerationOptions
from models.memory.units import MemoryUse
from models.repair import Fidelity


@dataclass(frozen=True, slots=True)
class TranslationRequest:
    document: Document
    options: GenerationOptions = field(default_factory=GenerationOptions)
    fidelity: Fidelity = field(default_factory=Fidelity)  # repairs and protected terms (`models.repair`)
    alignment: bool = False  # every translated sentence also gets its plain texts and word alignment
    warnings: tuple[str, ...] = ()  # said by the reader (a format's losses), passed to the answer
    max_sentences: int | None = None  # more is refused (`DocumentTooLarge`) before any model time
    memory: MemoryUse = field(default_factory=MemoryUse)  # the caller's translation memory, looked up once per plan
