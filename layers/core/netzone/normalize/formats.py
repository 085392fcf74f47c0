"""What kind of resource a record describes and on which carrier: `Format`, `format_of`."""

from __future__ import annotations

from dataclasses import dataclass

from netzone.normalize.folding import fold
from netzone.normalize.marc_fields import MarcFields

# Leader/06 type of record, grouped: records of different groups never describe one manifestation.
_CONTENT = {
    "a": "text",
    "t": "text",
    "c": "score",
    "d": "score",
    "e": "map",
    "f": "map",
    "g": "video",
    "i": "audio",
    "j": "audio",
    "k": "image",
    "m": "computer",
    "o": "kit",
    "p": "mixed",
    "r": "object",
}
# 008 form of item: position 23 for books, serials, music, mixed materials; 29 for maps and
# visual materials.
_FORM_AT_29 = frozenset("efgkor")
_FORM_CARRIER = {
    "a": "microform",
    "b": "microform",
    "c": "microform",
    "o": "electronic",
    "q": "electronic",
    "s": "electronic",
}
# Media type codes (RDA 337 $b and the first letter of 338 $b) and 007/00 category of
# material, by carrier. "print" stands for every unmediated carrier: volume, sheet, card.
_MEDIA_CARRIER = {
    "c": "electronic",
    "h": "microform",
    "s": "audio",
    "v": "video",
    "g": "projected",
    "n": "print",
}
_007_CARRIER = {
    "c": "electronic",
    "h": "microform",
    "s": "audio",
    "v": "video",
    "g": "projected",
    "m": "projected",
    "t": "print",
    "a": "print",
    "d": "print",
    "k": "print",
    "q": "print",
}
# The same media types named in words (337/338 $a without codes, 245 $h, 533 $a).
_MEDIA_WORDS = (
    ("online", "electronic"),
    ("computer", "electronic"),
    ("electronic", "electronic"),
    ("micro", "microform"),
    ("audio", "audio"),
    ("sound", "audio"),
    ("video", "video"),
    ("unmediated", "print"),
    ("volume", "print"),
    ("sheet", "print"),
)


def _media(text: str) -> str | None:
    """The carrier named first in a text ("video computer" is a video)."""
    folded = fold(text)
    found = [(folded.find(word), carrier) for word, carrier in _MEDIA_WORDS if word in folded]
    return min(found)[1] if found else None


@dataclass(frozen=True, slots=True)
class Format:
    """What kind of resource a record describes and on which carrier."""

    content: str  # text, score, map, video, audio, image, computer, kit, mixed, object
    level: str  # Leader/07: m monograph, s serial, a component part, c collection, ...
    carrier: str  # print (any unmediated carrier), electronic, microform, audio, video, projected


def format_of(record: MarcFields) -> Format:
    """Content type (Leader/06), bibliographic level (Leader/07) and carrier.

    The carrier comes from the most explicit source present, first found wins: 338 carrier
    type, 337 media type (codes, else words), 007/00, 008 form of item, then "[electronic
    resource]"/"[microform]" in 245 $h and reproduction notes (533).
    """
    leader = str(record.leader or "")
    kind = leader[6:7] or "a"
    content = "computer" if kind == "m" else _CONTENT.get(kind, "text")
    carrier = None
    for tag in ("338", "337"):
        field = record.get(tag)
        if field is not None:
            codes = field.get_subfields("b")
            if codes and codes[0].strip():
                carrier = _MEDIA_CARRIER.get(codes[0].strip()[:1].lower())
            carrier = carrier or _media(" ".join(field.get_subfields("a")))
        if carrier:
            break
    if carrier is None:
        field = record.get("007")
        if field is not None and field.data:
            carrier = _007_CARRIER.get(field.data[:1].lower())
    control = record.get("008")
    if carrier is None and control is not None and control.data:
        position = 29 if kind in _FORM_AT_29 else 23
        carrier = _FORM_CARRIER.get(control.data[position : position + 1])
    if carrier is None:
        medium = " ".join(v for f in record.get_fields("245") for v in f.get_subfields("h"))
        notes = " ".join(v for f in record.get_fields("533") for v in f.get_subfields("a"))
        carrier = _media(medium) or (_media(notes) if notes else None)
    if carrier is None and content == "computer":
        carrier = "electronic"
    return Format(content=content, level=leader[7:8] or "m", carrier=carrier or "print")
