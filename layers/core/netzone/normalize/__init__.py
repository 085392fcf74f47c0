"""Normalized identifiers and descriptive elements of a bibliographic record: pure functions, no AWS.

Each normalizer takes the text of one subfield (or one field) as catalogers and vendors write it
("0-306-40615-2 (pbk.)", "(OCoLC)ocm00012345", "n  78890351 ", "2d ed., rev. and enl.",
"xiii, 322 p., [9] leaves of plates :") and returns a canonical form, or None when the text holds
nothing usable. Two records that describe the same thing in different words should normalize to
the same values; that is what matching compares.

The names below are the package's public API (`from netzone import normalize`,
`normalize.isbn`); its modules, one part each, are listed in the module map in
`netzone/__init__.py`.
"""

from netzone.normalize.folding import fold
from netzone.normalize.formats import Format, format_of
from netzone.normalize.marc_fields import MarcFields
from netzone.normalize.names import name, surname
from netzone.normalize.publication import (
    Dates,
    Edition,
    Extent,
    dates,
    dimensions,
    edition,
    extent,
    publisher,
    years,
)
from netzone.normalize.standard_numbers import (
    IsbnQualifier,
    identifiers,
    isbn,
    isbn10,
    isbn_qualifier,
    issn,
    lccn,
    oclc,
)
from netzone.normalize.titles import Title, numbers, roman, title

__all__ = [
    "Dates",
    "Edition",
    "Extent",
    "Format",
    "IsbnQualifier",
    "MarcFields",
    "Title",
    "dates",
    "dimensions",
    "edition",
    "extent",
    "fold",
    "format_of",
    "identifiers",
    "isbn",
    "isbn10",
    "isbn_qualifier",
    "issn",
    "lccn",
    "name",
    "numbers",
    "oclc",
    "publisher",
    "roman",
    "surname",
    "title",
    "years",
]
