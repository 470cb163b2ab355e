"""The docs stay true: every setting is in docs/configuration.md, CI runs the README's test command,
and every relative link and anchor in README.md and docs/*.md resolves.

`python tests/unit/test_readme.py` rewrites the settings table of docs/configuration.md from
`service/settings.py` (defaults and descriptions).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":  # run as a script: make `service` importable from the checkout
    sys.path.insert(0, str(ROOT))

from pydantic_core import PydanticUndefined  # noqa: E402

from service.settings import Settings  # noqa: E402

CONFIGURATION = ROOT / "docs" / "configuration.md"
_HEADER = "| variable | default | meaning |\n| --- | --- | --- |\n"
_ROW = re.compile(r"^\| `(BITEXT_[A-Z0-9_]+)` \|", re.MULTILINE)


def _default(value: object) -> str:
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def configuration_table() -> str:
    """The settings table as `service/settings.py` defines it."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "(empty)" if field.default_factory is not None else _default(field.default)
        rows.append(f"| `BITEXT_{name.upper()}` | `{default}` | {field.description or ''} |\n")
    return _HEADER + "".join(rows)


def write_configuration_table(path: Path = CONFIGURATION) -> None:
    """Replace the table under the header in `path` with `configuration_table()`."""
    text = path.read_text(encoding="utf-8")
    start = text.index(_HEADER)
    end = start + len(_HEADER)
    while text.startswith("| `BITEXT_", end):
        end = text.index("\n", end) + 1
    path.write_text(text[:start] + configuration_table() + text[end:], encoding="utf-8")


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    documented = _ROW.findall(CONFIGURATION.read_text(encoding="utf-8"))
    settings = [f"BITEXT_{name.upper()}" for name in Settings.model_fields]
    assert [name for name in settings if name not in documented] == [], "run `python tests/unit/test_readme.py`"
    assert [name for name in documented if name not in settings] == [], "rows for settings that no longer exist"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip() and not line.startswith("#")
    ][-1]
    assert command == "python -m pytest"
    assert f"`{command}`" in readme


_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def broken_links(page: Path) -> list[str]:
    """Relative links of `page` whose file or `#anchor` does not exist."""
    text = _CODE.sub("", _FENCE.sub("", page.read_text(encoding="utf-8")))
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file.read_text(encoding="utf-8"))):
            broken.append(target)
    return broken


def test_every_relative_link_and_anchor_resolves() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = {page.relative_to(ROOT).as_posix(): links for page in pages if (links := broken_links(page))}
    assert broken == {}


if __name__ == "__main__":
    write_configuration_table()
