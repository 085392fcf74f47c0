"""KBART title lists in ingest and check: each row of a provider's list screened into a
portfolio row for `record_match`, or rejected with its position, title_id and reason.

`netzone.ingest` hands a file here once `netzone.marc.open_feed` has recognised a KBART header
(plain or gzip); the rows are parsed one at a time (`netzone.kbart.read_kbart`) in bounded
memory, and read by the same loop as MARC records. Accepted rows travel in `PortfolioBatch`es
to `record_match`, which files each as an electronic portfolio (`netzone.portfolio_filing`) and
counts its outcome on the job. So, as for MARC feeds, rows read = rejected on reading +
outcomes counted by record_match.

A portfolio is identified by its provider and a portfolio id: the package, the title
(`kbart.source_id`: title_id, else derived from the identifiers) and the start of its coverage.
The same title may be in several packages of one provider, and KBART gives a title with a gap
in coverage of a year or more one row per range: each is a portfolio of its own.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

from netzone import kbart
from netzone.batches import PortfolioBatch, PortfolioRow
from netzone.jobs import FeedError, Reject
from netzone.screening import CheckReport, Screened

FORMAT = "kbart"
MAX_PORTFOLIO_ID = 400
_TITLE_ID_COLUMN = kbart.COLUMNS.index("title_id")


def portfolio_id(portfolio: kbart.Portfolio) -> str:
    """The portfolio's id within its provider: `<package>|<title source id>|<coverage start>`."""
    start = portfolio.coverage[0].start_date if portfolio.coverage else None
    return f"{portfolio.package or ''}|{kbart.source_id(portfolio)}|{start or ''}"


def _title_id(raw: bytes) -> str | None:
    """title_id of a rejected row, when the row has that column and it reads as text."""
    cells = raw.decode("utf-8", errors="replace").split("\t")
    value = cells[_TITLE_ID_COLUMN].strip().strip('"').strip() if len(cells) > _TITLE_ID_COLUMN else ""
    return value[:200] if value and value.isprintable() else None


@dataclass
class KbartRows:
    """The rows of a KBART title list for ingest's read loop: each screened, an accepted one
    sent as a `PortfolioRow` in a `PortfolioBatch`. A paused read re-reads the list and skips
    the rows read (`offsets` is False)."""

    results: Iterator[kbart.KbartResult]
    format: str = FORMAT
    offsets: bool = False
    batch: ClassVar[type[PortfolioBatch]] = PortfolioBatch

    def screen(self, result: kbart.KbartResult) -> Screened:
        portfolio = result.portfolio
        if portfolio is not None and portfolio.extra.get("package_name"):
            portfolio = dataclasses.replace(portfolio, package=portfolio.extra["package_name"])
        identifier = portfolio_id(portfolio) if portfolio is not None else _title_id(result.raw)
        error = result.error
        if portfolio is not None and len(identifier or "") > MAX_PORTFOLIO_ID:
            error = f"package and title_id together are longer than {MAX_PORTFOLIO_ID} characters"
        if portfolio is None or error:
            reject = Reject(
                position=result.position,
                source_id=identifier,
                reason=error or "unreadable",
                offset=result.offset,
                raw=result.raw or None,  # the row as sent, for the rejects file
            )
            return Screened(result.position, result.offset, identifier, result.warnings, reject=reject)
        data = portfolio.to_dict()
        row = PortfolioRow(position=result.position, portfolio_id=identifier or "", portfolio=data)
        size = len(json.dumps(data, ensure_ascii=False)) // 3
        return Screened(result.position, result.offset, identifier, result.warnings, item=row, size=size)


def rows(stream: BinaryIO, feed_key: str, provider: str) -> KbartRows:
    """The rows of a KBART file (already opened, gzip undone), its header checked now.

    The package is the file name's (`kbart.package_from_filename`) unless a row names its own
    in a KBART Automation `package_name` column.
    """
    package = kbart.package_from_filename(feed_key).package
    try:
        return KbartRows(kbart.read_kbart(stream, provider=provider, package=package))
    except (kbart.KbartHeaderError, OSError, EOFError) as exc:
        raise FeedError(str(exc)) from exc


def check(
    stream: BinaryIO, report: CheckReport, *, max_rejects: int = 20, max_warnings: int = 20
) -> CheckReport:
    """`ingest.check` for a KBART file (already opened): every row counted as accepted or rejected."""
    try:
        for result in kbart.read_kbart(stream):
            identifier = kbart.source_id(result.portfolio) if result.portfolio else _title_id(result.raw)
            reject = (
                None
                if result.error is None
                else Reject(
                    position=result.position, source_id=identifier, reason=result.error, offset=result.offset
                )
            )
            report.tally(
                result.position, result.offset, identifier, result.warnings, reject, max_rejects, max_warnings
            )
    except kbart.KbartHeaderError as exc:
        report.error = str(exc)
    except (OSError, EOFError, zlib.error) as exc:
        report.error = (
            f"the file could not be read to the end after {report.records_read} rows "
            f"({type(exc).__name__}: {exc})"
        )
    if report.error is None and report.records_read == 0:
        report.error = "no rows after the KBART header row"
    return report
