"""The engine layer runs where only torch and transformers are installed (a GPU box, a bench host)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh interpreter where the web stack cannot be imported, as if it were not installed.
_SCRIPT = r"""
import importlib, pkgutil, sys

BLOCKED = (
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "pydantic_settings",
    "prometheus_client",
    "typer",
    "jinja2",
    "httpx",
    "service",
)

for name in BLOCKED:  # None in sys.modules: `import` fails and find_spec says "not installed"
    sys.modules[name] = None
import models
names = [m.name for m in pkgutil.iter_modules(models.__path__, "models.")]
for name in names:
    importlib.import_module(name)
from models.engine import EngineSpec, GenerationOptions
from models.factory import load_engine
engine = load_engine(EngineSpec(sys.argv[1], device="cpu"))
out = engine.translate(["Le budget est voté.", "Il pleut."], GenerationOptions(num_beams=2, exact_length=True))
assert [o.output_tokens for o in out] == [o.source_tokens * 3 // 2 + 9 + (o.source_tokens % 2) for o in out], out
if "ct2" in sys.argv[2:]:
    from models.engine import EngineSpec
    from models.factory import load_engine
    cache = __import__("pathlib").Path(sys.argv[3])
    ct2 = load_engine(EngineSpec(sys.argv[1], kind="ct2", device="cpu", cache_dir=cache))
    assert len(ct2.translate(["Le budget est voté."])) == 1
loaded = sorted(m for m, mod in sys.modules.items() if mod is not None and m.split(".")[0] in BLOCKED)
assert not loaded, loaded
print("ok", len(names))
"""


@pytest.mark.slow
@pytest.mark.integration
def test_models_import_and_translate_without_the_web_stack(tiny_checkpoint: Path, tmp_path: Path) -> None:
    args = [sys.executable, "-c", _SCRIPT, str(tiny_checkpoint)]
    try:
        import ctranslate2  # noqa: F401

        args += ["ct2", str(tmp_path)]
    except ImportError:
        pass
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok ")
