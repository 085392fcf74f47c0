"""KBART Phase II title lists: from a provider's file to electronic portfolios. Pure, no AWS.

    from netzone import brief_records, kbart

    name = kbart.package_from_filename("Harbor_NorthConsortium_AllJournals_2026-01-15.txt")
    for result in kbart.read_kbart(stream, provider="harbor", package=name.package):
        if result.portfolio is None:
            ...  # result.error says what the provider must fix in row result.position
        else:
            keys = result.portfolio.match_keys()  # "isbn:978...", "issn:1234-5679"
            record = brief_records.brief_record(result.portfolio)  # when no network record matches

The header row must name the 25 KBART Phase II columns (NISO RP-9-2014) in order
(`coverage_notes`, the Phase I name, is accepted for `notes`); provider-specific columns may
follow `access_type`. A header that is not KBART raises `KbartHeaderError` before any row is
read. Each data row then yields one `KbartResult`: a `Portfolio`, or the reason the row was
rejected; either way the rest of the file goes on, so rows read = portfolios + rejects. The
file is read line by line, in bounded memory.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import BinaryIO, Literal

from netzone import normalize

COLUMNS = (
    "publication_title",
    "print_identifier",
    "online_identifier",
    "date_first_issue_online",
    "num_first_vol_online",
    "num_first_issue_online",
    "date_last_issue_online",
    "num_last_vol_online",
    "num_last_issue_online",
    "title_url",
    "first_author",
    "title_id",
    "embargo_info",
    "coverage_depth",
    "notes",
    "publisher_name",
    "publication_type",
    "date_monograph_published_print",
    "date_monograph_published_online",
    "monograph_volume",
    "monograph_edition",
    "first_editor",
    "parent_publication_title_id",
    "preceding_publication_title_id",
    "access_type",
)
ALIASES = {"coverage_notes": "notes"}  # the KBART Phase I name of column 15
COVERAGE_DEPTHS = ("fulltext", "abstracts", "selected articles")
MAX_LINE_BYTES = 64 * 1024  # a KBART row is a few hundred bytes; longer is not a row
MAX_TITLE_ID = 200  # jobs.MAX_SOURCE_ID: title_id becomes the brief record's 001

PublicationType = Literal["serial", "monograph"]


class KbartHeaderError(ValueError):
    """The file's first line is not a KBART Phase II header: nothing is read."""


# ---------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class Identifier:
    """A print_identifier or online_identifier: an ISBN or ISSN, normalized when valid."""

    role: Literal["print", "online"]
    kind: Literal["isbn", "issn"]
    value: str  # ISBN-13 or NNNN-NNNC when valid; otherwise the digits as given (weak evidence)
    valid: bool
    raw: str


@dataclass(frozen=True, slots=True)
class Embargo:
    """One part of embargo_info: R (only the last n units available) or P (the last n withheld)."""

    kind: Literal["R", "P"]
    amount: int
    unit: Literal["D", "M", "Y"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """One continuous run of online coverage. Dates keep the row's precision (YYYY[-MM[-DD]]).

    A blank end means coverage continues to the present. KBART gives one range per row (a gap
    of twelve months or more is a new row), so a title's ranges are its rows' ranges together.
    """

    start_date: str | None = None
    start_volume: str | None = None
    start_issue: str | None = None
    end_date: str | None = None
    end_volume: str | None = None
    end_issue: str | None = None
    embargo: tuple[Embargo, ...] = ()

    @property
    def open_ended(self) -> bool:
        return self.end_date is None


@dataclass(frozen=True, slots=True)
class Portfolio:
    """One KBART row: an electronic portfolio of a title in a provider's package."""

    publication_title: str
    publication_type: PublicationType
    identifiers: tuple[Identifier, ...] = ()  # print first, then online
    coverage: tuple[Coverage, ...] = ()
    coverage_depth: str | None = None  # fulltext, abstracts, selected articles
    open_access: bool = False  # access_type F
    title_url: str | None = None
    title_id: str | None = None
    first_author: str | None = None
    first_editor: str | None = None
    publisher_name: str | None = None
    notes: str | None = None
    date_monograph_published_print: str | None = None
    date_monograph_published_online: str | None = None
    monograph_volume: str | None = None
    monograph_edition: str | None = None
    parent_publication_title_id: str | None = None
    preceding_publication_title_id: str | None = None
    provider: str | None = None  # the feed's provider code
    package: str | None = None  # the provider's package name (see package_from_filename)
    extra: dict[str, str] = field(default_factory=dict)  # provider columns after access_type

    def ids(self, kind: str, *, valid: bool = True) -> list[str]:
        """The normalized identifiers of one kind ("isbn", "issn"), print first, no repeats."""
        found = [i.value for i in self.identifiers if i.kind == kind and i.valid == valid]
        return list(dict.fromkeys(found))

    def match_keys(self) -> list[str]:
        """The identifier keys of `netzone.matching.match_keys` that find this title's records.

        Print and online identifiers both count: a portfolio belongs to the title whichever
        manifestation the network record describes. As on the MARC side, invalid identifiers
        give no key, and an ISSN is a key for serials only (in a monograph it is the series').
        """
        keys = [f"isbn:{n}" for n in self.ids("isbn")]
        if self.publication_type == "serial":
            keys += [f"issn:{n}" for n in self.ids("issn")]
        return keys

    def to_dict(self) -> dict:
        """Plain JSON-friendly data, empty values left out (for storage beside the cluster)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "", (), [], {}, False)}

    @classmethod
    def from_dict(cls, data: dict) -> Portfolio:
        """The portfolio `to_dict` gave (also after a JSON round trip: lists for tuples)."""
        fields = dict(data)
        identifiers = tuple(Identifier(**i) for i in fields.pop("identifiers", ()))
        coverage = tuple(
            Coverage(**(dict(c) | {"embargo": tuple(Embargo(**e) for e in c.get("embargo") or ())}))
            for c in fields.pop("coverage", ())
        )
        return cls(identifiers=identifiers, coverage=coverage, **fields)


@dataclass(frozen=True, slots=True)
class KbartResult:
    """One data row read: its portfolio, or the reason it was rejected, with where it stands."""

    position: int  # 1-based ordinal of the data row (the header is not counted)
    line: int  # 1-based line number in the file (the header is line 1)
    offset: int  # byte offset of the row in the (decompressed) file
    portfolio: Portfolio | None
    error: str | None = None  # why the row was rejected, in terms the provider can act on
    warnings: list[str] = field(default_factory=list)  # accepted, but worth telling the provider
    raw: bytes = b""  # the row as read, without its line terminator


@dataclass(frozen=True, slots=True)
class KbartFileName:
    """What a KBART file name says: `{Provider}_{Region|Consortium|Global}_{Package}_{YYYY-MM-DD}.txt`."""

    provider: str | None
    region: str | None
    package: str
    date: str | None  # YYYY-MM-DD
    conventional: bool  # the name follows the KBART convention


# ---------------------------------------------------------------- file names

_FILE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXTENSIONS = re.compile(r"(\.(txt|tsv|csv|kbart|tab))?(\.gz)?$", re.IGNORECASE)


def package_from_filename(name: str) -> KbartFileName:
    """Parse `JSTOR_Global_AllTitles_2013-01-14.txt`; other names give their stem as the package.

    Directories and the extension (.txt, .tsv, .gz) are dropped; a package name may itself
    contain underscores ("Harbor_NorthConsortium_Back_Files_2026-01-15.txt").
    """
    stem = _EXTENSIONS.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]) or name
    parts = stem.split("_")
    dated = len(parts) > 1 and _FILE_DATE.match(parts[-1]) is not None and _valid_date(parts[-1])
    if dated and len(parts) >= 4 and all(parts):
        return KbartFileName(parts[0], parts[1], "_".join(parts[2:-1]), parts[-1], True)
    if dated:
        return KbartFileName(None, None, "_".join(parts[:-1]), parts[-1], False)
    return KbartFileName(None, None, stem, None, False)


# ---------------------------------------------------------------- reading


def read_kbart(
    stream: BinaryIO, *, provider: str | None = None, package: str | None = None
) -> Iterator[KbartResult]:
    """Check the header now (KbartHeaderError), then read the rows lazily, one result each.

    `stream` is plain UTF-8 (a leading BOM and CRLF line ends are fine); gzip is undone upstream.
    """
    raw_header = stream.readline(MAX_LINE_BYTES + 1)
    offset = len(raw_header)
    names = _check_header(raw_header)
    return _rows(stream, names, offset, provider, package)


def _check_header(raw: bytes) -> list[str]:
    if not raw.strip():
        raise KbartHeaderError("the file is empty: a KBART file starts with a header row")
    if len(raw) > MAX_LINE_BYTES:
        raise KbartHeaderError(f"the first line is longer than {MAX_LINE_BYTES} bytes: not a KBART header")
    try:
        text = raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise KbartHeaderError(
            f"the header row is not UTF-8 (byte {exc.start}): save the file as UTF-8"
        ) from exc
    cells = text.split("\t")
    while len(cells) > 1 and not cells[-1].strip():
        cells.pop()  # trailing tabs after the last column name
    names = [ALIASES.get(n, n) for n in (c.strip().strip('"').strip().lower() for c in cells)]
    standard = names[: len(COLUMNS)]
    extras = names[len(COLUMNS) :]
    if tuple(standard) == COLUMNS:
        bad = [n or "(empty)" for n in extras if not n or n in COLUMNS or extras.count(n) > 1]
        if bad:
            raise KbartHeaderError(
                "columns after access_type must have unique names other than the KBART ones; "
                f"check: {', '.join(dict.fromkeys(bad))}"
            )
        return names
    if not set(names) & set(COLUMNS):
        separator = "" if "\t" in text else " (and it has no tabs: KBART is tab-separated)"
        raise KbartHeaderError(
            f"no KBART header row{separator}: the first line must name the {len(COLUMNS)} KBART "
            f"Phase II columns ({', '.join(COLUMNS)}); it starts {text[:80]!r}"
        )
    problems = []
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    # Unknown names are only allowed after the 25 standard columns, i.e. handled above.
    unknown = [n or "(empty)" for n in names if n not in COLUMNS]
    if unknown:
        problems.append(f"unknown {', '.join(unknown)} (provider columns may only follow access_type)")
    duplicated = [c for c in COLUMNS if names.count(c) > 1]
    if duplicated:
        problems.append(f"repeated {', '.join(duplicated)}")
    present = [n for n in dict.fromkeys(names) if n in COLUMNS]
    expected = [c for c in COLUMNS if c in present]
    misplaced = [
        f"{n} (column {names.index(n) + 1})" for n, e in zip(present, expected, strict=True) if n != e
    ]
    if misplaced:
        problems.append(f"out of order {', '.join(misplaced)}")
    raise KbartHeaderError(
        "the header row is not the KBART Phase II columns in order: "
        + "; ".join(problems)
        + f". Expected, tab-separated: {', '.join(COLUMNS)}"
    )


def _rows(
    stream: BinaryIO, names: list[str], offset: int, provider: str | None, package: str | None
) -> Iterator[KbartResult]:
    position, line = 0, 1
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        start, line = offset, line + 1
        offset += len(raw)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                offset += len(rest)
            offset += len(rest)
            position += 1
            error = f"the row is longer than {MAX_LINE_BYTES} bytes: a line break is probably missing"
            yield KbartResult(position, line, start, None, error, [], raw[:MAX_LINE_BYTES])
            continue
        body = raw.rstrip(b"\r\n")
        if not body.strip():  # blank line (or only tabs): no data, not a row
            continue
        position += 1
        warnings: list[str] = []
        try:
            portfolio = _portfolio(body, names, warnings, provider, package)
        except _Reject as reject:
            yield KbartResult(position, line, start, None, str(reject), warnings, body)
        else:
            yield KbartResult(position, line, start, portfolio, None, warnings, body)


class _Reject(ValueError):
    pass


def _cell(text: str) -> str | None:
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':  # a spreadsheet's quoting
        value = value[1:-1].replace('""', '"').strip()
    return value or None


def _portfolio(
    body: bytes, names: list[str], warnings: list[str], provider: str | None, package: str | None
) -> Portfolio:
    """The portfolio of one data row, checked column by column; `_Reject` says why not."""
    row = _row(body, names)
    title = row["publication_title"]
    if not title:
        raise _Reject("publication_title is empty: every row needs the title")
    identifiers = [
        i
        for role in ("print", "online")
        if (i := _identifier(role, row[f"{role}_identifier"], warnings)) is not None
    ]
    if not identifiers and not row["title_url"]:
        raise _Reject(
            "no print_identifier, online_identifier or title_url: the title can be neither matched nor linked"
        )
    kind = _publication_type(row, identifiers, warnings)
    depth = _coverage_depth(row, warnings)
    access = _access_type(row, warnings)
    _check_dates(row)
    url = row["title_url"]
    if url and not re.match(r"^https?://\S+$", url, re.IGNORECASE):
        warnings.append(f"title_url {url!r} is not an http(s) address")
    title_id = row["title_id"]
    if title_id and (len(title_id) > MAX_TITLE_ID or not title_id.isprintable()):
        raise _Reject(f"title_id must be at most {MAX_TITLE_ID} printable characters")
    return Portfolio(
        publication_title=title,
        publication_type=kind,
        identifiers=tuple(identifiers),
        coverage=_coverage(row, warnings),
        coverage_depth=depth,
        open_access=access == "F",
        title_url=url,
        title_id=title_id,
        first_author=row["first_author"],
        first_editor=row["first_editor"],
        publisher_name=row["publisher_name"],
        notes=row["notes"],
        date_monograph_published_print=row["date_monograph_published_print"],
        date_monograph_published_online=row["date_monograph_published_online"],
        monograph_volume=_number("monograph_volume", row, warnings),
        monograph_edition=row["monograph_edition"],
        parent_publication_title_id=row["parent_publication_title_id"],
        preceding_publication_title_id=row["preceding_publication_title_id"],
        provider=provider,
        package=package,
        extra={n: v for n, v in row.items() if n not in COLUMNS and v is not None},
    )


def _row(body: bytes, names: list[str]) -> dict[str, str | None]:
    """The row's cells by column name: UTF-8, one cell per column of the header."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Reject(f"the row is not UTF-8 (byte {exc.start}): save the file as UTF-8") from exc
    cells = text.split("\t")
    while len(cells) > len(names) and not cells[-1].strip():
        cells.pop()  # trailing tabs
    if len(cells) != len(names):
        raise _Reject(
            f"the row has {len(cells)} columns, the header {len(names)}: every column must be present "
            "(empty when unknown), separated by single tabs, with no tab inside a value"
        )
    return {n: _cell(c) for n, c in zip(names, cells, strict=True)}


def _publication_type(
    row: dict[str, str | None], identifiers: list[Identifier], warnings: list[str]
) -> PublicationType:
    """serial or monograph; when the row leaves it empty, told by the identifiers if they agree."""
    kind = (row["publication_type"] or "").lower()
    if not kind:
        shapes = {i.kind for i in identifiers}
        if len(shapes) != 1:
            raise _Reject("publication_type is empty: give serial or monograph")
        kind = "serial" if shapes == {"issn"} else "monograph"
        warnings.append(f"publication_type is empty: taken as {kind} from the identifiers")
    if kind == "serial":
        return "serial"
    if kind == "monograph":
        return "monograph"
    raise _Reject(f"publication_type {row['publication_type']!r} is not serial or monograph")


def _coverage_depth(row: dict[str, str | None], warnings: list[str]) -> str | None:
    depth = row["coverage_depth"]
    if depth is None:
        return None
    depth = " ".join(depth.lower().split())
    if depth in ("full text", "full-text"):
        warnings.append(f"coverage_depth {row['coverage_depth']!r} read as fulltext")
        depth = "fulltext"
    if depth not in COVERAGE_DEPTHS:
        raise _Reject(f"coverage_depth {row['coverage_depth']!r} is not one of {', '.join(COVERAGE_DEPTHS)}")
    return depth


def _access_type(row: dict[str, str | None], warnings: list[str]) -> str:
    """F (free) or P (paid); empty is taken as P, with a warning."""
    access = (row["access_type"] or "").upper()
    if access not in ("", "F", "P"):
        raise _Reject(f"access_type {row['access_type']!r} is not F (free) or P (paid)")
    if not access:
        warnings.append("access_type is empty: taken as P (paid)")
    return access


_DATE_COLUMNS = (
    "date_first_issue_online",
    "date_last_issue_online",
    "date_monograph_published_print",
    "date_monograph_published_online",
)


def _check_dates(row: dict[str, str | None]) -> None:
    """Every date is YYYY, YYYY-MM or YYYY-MM-DD, and coverage does not end before it starts."""
    for column in _DATE_COLUMNS:
        value = row[column]
        if value is not None and not _valid_date(value):
            raise _Reject(f"{column} {value!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")
    first, last = row["date_first_issue_online"], row["date_last_issue_online"]
    if first and last and last[: min(len(first), len(last))] < first[: min(len(first), len(last))]:
        raise _Reject(
            f"date_last_issue_online {last} is before date_first_issue_online {first}: check the coverage"
        )


def _coverage(row: dict[str, str | None], warnings: list[str]) -> tuple[Coverage, ...]:
    """The row's range of online coverage, or none when the row gives no date, number or embargo."""
    first, last = row["date_first_issue_online"], row["date_last_issue_online"]
    coverage = Coverage(
        start_date=first,
        start_volume=_number("num_first_vol_online", row, warnings),
        start_issue=_number("num_first_issue_online", row, warnings),
        end_date=last,
        end_volume=_number("num_last_vol_online", row, warnings),
        end_issue=_number("num_last_issue_online", row, warnings),
        embargo=_embargo(row["embargo_info"]),
    )
    if (
        coverage.start_volume
        and coverage.end_volume
        and coverage.start_volume.isdigit()
        and coverage.end_volume.isdigit()
        and int(coverage.end_volume) < int(coverage.start_volume)
    ):
        warnings.append(
            f"num_last_vol_online {coverage.end_volume} is below num_first_vol_online {coverage.start_volume}"
        )
    has_coverage = any(
        (first, last, coverage.start_volume, coverage.end_volume, coverage.start_issue, coverage.end_issue)
    )
    return (coverage,) if has_coverage or coverage.embargo else ()


def _valid_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        return False
    year, month, day = (int(p) for p in (text + "-01-01").split("-")[:3])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


_NUMBER_PREFIX = re.compile(r"^(?:vol|volume|v|no|nr|number|issue|iss|ed|edition)\.?\s*", re.IGNORECASE)


def _number(column: str, row: dict[str, str | None], warnings: list[str]) -> str | None:
    value = row[column]
    if value is None:
        return None
    bare = _NUMBER_PREFIX.sub("", value)
    if bare != value and bare:
        warnings.append(f"{column} {value!r}: KBART numbers have no prefix, read as {bare!r}")
        return bare
    return value


_EMBARGO = re.compile(r"([RP])(\d+)([DMY])")


def _embargo(text: str | None) -> tuple[Embargo, ...]:
    if not text:
        return ()
    parts = [p.strip().upper() for p in text.split(";")]
    found = [_EMBARGO.fullmatch(p) for p in parts]
    if len(parts) > 2 or not all(found) or len({m.group(1) for m in found if m}) != len(parts):
        raise _Reject(
            f"embargo_info {text!r} is not R or P, a number and D, M or Y (for example R1Y, P6M or R10Y;P1Y)"
        )
    # The pattern admits only R or P and D, M or Y: the Literal types of `Embargo`.
    return tuple(Embargo(m.group(1), int(m.group(2)), m.group(3)) for m in found if m)  # type: ignore[arg-type]


_ISSN_SHAPE = re.compile(r"^\d{7}[\dX]$")
_ISBN_SHAPE = re.compile(r"^(\d{9}[\dX]|\d{13})$")


def _identifier(role: Literal["print", "online"], text: str | None, warnings: list[str]) -> Identifier | None:
    """An ISSN or ISBN by its shape; one with a wrong check digit is kept, flagged invalid."""
    if not text:
        return None
    compact = re.sub(r"[\s\-]", "", text).upper()
    column = f"{role}_identifier"
    if _ISSN_SHAPE.match(compact):
        value = normalize.issn(compact)
        kind: Literal["isbn", "issn"] = "issn"
    elif _ISBN_SHAPE.match(compact):
        value = normalize.isbn(compact)
        kind = "isbn"
    else:
        warnings.append(f"{column} {text!r} is neither an ISSN nor an ISBN: ignored")
        return None
    if value is None:
        warnings.append(f"{column} {text!r}: wrong {kind.upper()} check digit, kept as weak evidence only")
        return Identifier(role, kind, compact, False, text)
    return Identifier(role, kind, value, True, text)


# ---------------------------------------------------------------- title identity


def source_id(portfolio: Portfolio) -> str:
    """The 001 of the brief record: the provider's title_id, else an id derived from the row.

    The derived id depends on the identifiers (or, without any, the title and URL), not on
    the package, so the same title in two packages of one provider gives one brief record.
    """
    if portfolio.title_id:
        return portfolio.title_id
    ids = [f"{i.kind}:{i.value}" for i in portfolio.identifiers]
    basis = "|".join(ids) or f"{normalize.fold(portfolio.publication_title)}|{portfolio.title_url or ''}"
    digest = hashlib.sha256(f"{portfolio.publication_type}|{basis}".encode()).hexdigest()[:20]
    return f"kbart-{digest}"
