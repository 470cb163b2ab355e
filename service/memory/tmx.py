"""TMX 1.4b exchange, read and written by translate-toolkit (`translate.storage.tmx`).

Export: one `<tu>` per current unit, French (`fr`) and English (`en`) `<tuv>`s, the unit's
context and origin as `<prop type="x-bitext-…">`, its dates as TMX dates. Import: the file is first
checked with a parser that never resolves an entity (a document type declaring any is refused),
then each `<tu>` must hold a French and an English variant; the first problem is reported with its
line, and nothing is stored unless everything is (the store's one transaction).
"""

from __future__ import annotations

from lxml import etree
from translate.misc.xml_helpers import getXMLlang, getXMLspace
from translate.storage.tmx import tmxfile, tmxunit

from models.memory import Origin, Unit
from service.memory.base import StoredUnit
from service.memory.exchange import ExchangeError, parse_xml

PREVIOUS, NEXT, ORIGIN = "x-bitext-previous", "x-bitext-next", "x-bitext-origin"
INVALID = "invalid_tmx"


class TmxError(ExchangeError):
    """Why a TMX file cannot be imported (an `ExchangeError` with the code `invalid_tmx`)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message, line, code=INVALID)


def export_tmx(units: list[StoredUnit]) -> bytes:
    """The units as a TMX 1.4b document (UTF-8), French source, English target."""
    store = tmxfile(sourcelanguage="fr", targetlanguage="en")
    store.addheader()
    header = store.document.getroot().find(store.namespaced("header"))
    if header is not None:
        header.set("creationtool", "bitext")
        header.set("creationtoolversion", "1.0")
    for stored in units:
        unit = stored.unit
        tu: tmxunit = store.addsourceunit(unit.source, "fr")
        tu.settarget(unit.english, "en")
        element = tu.xmlelement
        element.set("creationdate", _tmx_date(stored.created))
        element.set("changedate", _tmx_date(stored.updated))
        props = [(ORIGIN, unit.origin.value), (PREVIOUS, unit.previous), (NEXT, unit.next)]
        for position, (kind, text) in enumerate((k, t) for k, t in props if t):
            prop = etree.Element("prop", type=kind)
            prop.text = text
            element.insert(position, prop)
    return bytes(store)


def import_tmx(data: bytes, origin: Origin = Origin.IMPORT) -> list[Unit]:
    """Every `<tu>` of a TMX file as a unit; the first problem raises `TmxError` with its line."""
    root = parse_xml(data, INVALID)
    if etree.QName(root).localname != "tmx" or root.find("body") is None:
        raise TmxError("not a TMX document: the root must be <tmx> with a <body>", root.sourceline or 0)
    try:
        store = tmxfile.parsestring(data)
    except Exception as error:  # noqa: BLE001 - the toolkit's own parse errors, reported as the file's
        raise TmxError(f"translate-toolkit cannot read it: {error}") from None
    return [_unit(tu, origin) for tu in store.units]


def _unit(tu: tmxunit, origin: Origin) -> Unit:
    element = tu.xmlelement
    line = element.sourceline or 0
    texts: dict[str, str] = {}
    for node in tu.getlanguageNodes():
        language = (getXMLlang(node) or "").lower().split("-")[0].split("_")[0]
        text = tu.getNodeText(node, getXMLspace(element, tu._default_xml_space))
        if language in ("fr", "en") and language not in texts and text is not None:
            texts[language] = text
    missing = [name for code, name in (("fr", "French"), ("en", "English")) if not (texts.get(code) or "").strip()]
    if missing:
        raise TmxError(f"this <tu> has no {' and no '.join(missing)} text (xml:lang fr and en)", line)
    props = {p.get("type"): p.text or "" for p in element.iterchildren("prop")}
    return Unit(texts["fr"], texts["en"], props.get(PREVIOUS, ""), props.get(NEXT, ""), origin)


def _tmx_date(stamp: str) -> str:
    """`2026-12-05T14:07:08+00:00` → TMX's `20261205T140708Z`."""
    return stamp[:19].replace("-", "").replace(":", "") + "Z"
