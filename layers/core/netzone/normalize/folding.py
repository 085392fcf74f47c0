"""Text folded for comparison: lower-case words, accents, punctuation and case removed (`fold`)."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

# Combining marks left by NFKD decomposition, including the MARC-8 double diacritics (U+FE20..).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters NFKD does not decompose, spelled the way name authority (NACO) normalization does.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "\u2113": "l",  # script l, as in "1 \u2113." (leaf) in old extent statements
        "&": " and ",
        # Apostrophes and the ALA-LC alif/ayn and soft/hard sign marks join their word:
        # "Scribner's", "Shu\u02bbayb", "Izdatel\u02b9stvo".
        "'": "",
        "\u2019": "",  # right single quotation mark
        "\u02bb": "",  # modifier letter turned comma (ayn)
        "\u02bc": "",  # modifier letter apostrophe (alif)
        "\u02b9": "",  # modifier letter prime (soft sign)
        "\u02ba": "",  # modifier letter double prime (hard sign)
    }
)
_NON_WORD = re.compile(r"[\W_]+")


# HTML character references that vendors' systems leave in MARC text ("Kr&#246;ll"). A
# tokenizer may have put spaces around them ("kr &#246; ll", "m. tamer &#214; zsu"): the space
# after one never belongs there, the space before only when the letter is a lower-case one
# inside a word.
_CHARACTER_REFERENCE = re.compile(r"( ?)&#(?:(\d{2,7})|[xX]([0-9a-fA-F]{2,6})); ?")
_NAMED_REFERENCE = re.compile(r"&(amp|lt|gt|quot|apos|nbsp);")


def _reference(match: re.Match) -> str:
    code = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
    char = chr(code) if 0 < code < 0x110000 else ""
    return char if char.islower() else match.group(1) + char


# UTF-8 read as Latin-1 or MARC-8 ("rÃ¶mische" for "römische"): a record whose Leader/09
# says MARC-8 while its bytes are UTF-8, a common vendor fault.
_MOJIBAKE = re.compile("[\u00c2-\u00c5][\u0080-\u00bf]")


def _repair_mojibake(text: str) -> str:
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not wholly mojibake: leave it alone
        return text


@lru_cache(maxsize=16384)  # places, publishers, series and names recur from record to record
def fold(text: str | None) -> str:
    """Lower-case words separated by single spaces: accents, punctuation and case removed.

    "Trübner & Co.," and "Trubner and co" both fold to "trubner and co".
    """
    if not text:
        return ""
    if "&" in text:
        text = _CHARACTER_REFERENCE.sub(_reference, text)
        text = _NAMED_REFERENCE.sub(lambda m: html.unescape(m.group(0)), text)
        text = text.replace("&", " and ")
    if text.isascii():  # the common case, kept cheap: only apostrophes need a rule
        return _NON_WORD.sub(" ", text.lower().replace("'", "")).strip()
    if _MOJIBAKE.search(text):
        text = _repair_mojibake(text)
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    if not text.isascii():  # other scripts' marks (Hebrew points, Arabic harakat), rarer
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", text.lower().translate(_LETTERS)).strip()
