"""Loaders for the labelled matching sets in ../shared/corpus, as pymarc records.

Used by the matching benchmarks and the offline fitting script; nothing here ships. The
corpus is read in place (never copied into the project). See ../shared/corpus/SOURCES.md and
../shared/notes/matching.md for what each set is.

- Goldfinch (HathiTrust, CDL): MARC-in-JSON records and `id1,id2,label` pairs. The `CID` field
  is HathiTrust's cluster id, i.e. the label: it is removed from every record on loading.
- DBLP-ACM / DBLP-Scholar (Magellan/DeepMatcher splits) and the Leipzig full tables: mapped to
  MARC as the notes prescribe (title 245 $a, first author 100 $a, others 700 $a, venue 773 $t,
  year 008 Date1 and 264 $c, Leader "naa").
- pymarc_dedupe: human-labelled SCSB/Princeton pairs of extracted fields, mapped to MARC.
- GOLD_PAIRS.csv: curated pairs of real files in the corpus, read with netzone.marc.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pymarc import Field, Indicators, Record, Subfield

from netzone import marc

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
GOLDFINCH = CORPUS / "cdlib-marc-ai-goldfinch" / "datasets" / "ht" / "202303_goldfinch_1.1"
GOLDFINCH_RESULTS = CORPUS / "cdlib-marc-ai-goldfinch" / "results" / "ht" / "202303_goldfinch_1.1"
MAGELLAN = CORPUS / "ditto-er_magellan"


def available() -> bool:
    return CORPUS.is_dir()


def skip_message() -> str:
    return f"SKIPPED: the shared corpus is not at {CORPUS}; clone the project beside ../shared to run this."


@dataclass(frozen=True, slots=True)
class Pair:
    a: Record
    b: Record
    label: int  # 1 same manifestation, 0 not
    ids: tuple[str, str] = ("", "")
    note: str = ""


# ---- Goldfinch ----------------------------------------------------------------------------


def goldfinch(split: str = "val") -> tuple[dict[str, Record], list[tuple[str, str, int]]]:
    """Records by 001 and the labelled pairs of one Goldfinch split (only "val" is in the corpus)."""
    records: dict[str, Record] = {}
    archive = zipfile.ZipFile(GOLDFINCH / f"202303_goldfinch_set_1.1_{split}.json.zip")
    with archive, archive.open(archive.namelist()[0]) as stream:
        for line in io.TextIOWrapper(stream, encoding="utf-8"):
            if not line.strip():
                continue
            data = json.loads(line)
            # The cluster id is the label: it must never reach the matcher.
            data["fields"] = [f for f in data["fields"] if "CID" not in f]
            record = marc.marc_json_to_record(data)
            records[record["001"].data] = record
    with open(GOLDFINCH / f"202303_goldfinch_set_1.1_{split}_labels.csv", newline="") as stream:
        pairs = [(row["id1"], row["id2"], int(row["label"])) for row in csv.DictReader(stream)]
    return records, pairs


def goldfinch_predictions(model: str = "20230327_cdl_goldfinch_model", split: str = "val") -> dict:
    """A published model's scores on the pairs of a split: {(id1, id2): score}."""
    folder = GOLDFINCH_RESULTS / model
    path = next(folder.glob(f"*_predictions_{split}.csv"))
    with open(path, newline="") as stream:
        return {(row["id1"], row["id2"]): float(row["prediction"]) for row in csv.DictReader(stream)}


def components(pairs: list[tuple[str, str, int]]) -> list[int]:
    """For each pair, the connected component of the record graph it belongs to.

    Records recur across pairs, so cross-validation folds are built from components: no record
    is seen in training and scored in the held-out fold.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in pairs:
        parent[find(a)] = find(b)
    roots: dict[str, int] = {}
    return [roots.setdefault(find(a), len(roots)) for a, _, _ in pairs]


# ---- DBLP as MARC -------------------------------------------------------------------------


def _leader(kind: str = "a", level: str = "a") -> str:
    return f"00000n{kind}{level} a2200000   4500"


def _fixed(year: int | None) -> str:
    date1 = f"{year:04d}" if year else "    "
    return f"000000s{date1}    xx " + " " * 17 + "   " + " d"


def article_record(title: str, authors: str, venue: str, year: str | int | None) -> Record:
    """A DBLP/ACM row as MARC, per ../shared/notes/matching.md.

    title -> 245 $a; first author -> 100 $a (ind1 1); other authors -> 700 $a; venue -> 773 $t;
    year -> 008 Date1 (type s) and 264 $c; Leader "naa" (a component part). Authors are split
    on commas.
    """
    record = Record(force_utf8=True)
    record.leader = _leader()
    number = None
    match = re.match(r"\s*(\d{4})", str(year or ""))
    if match:
        number = int(match.group(1))
    record.add_field(Field(tag="008", data=_fixed(number)))
    names = [n.strip() for n in (authors or "").split(",") if n.strip()]
    if names:
        record.add_field(Field("100", Indicators("1", " "), [Subfield("a", names[0])]))
    if title and title.strip():
        record.add_field(Field("245", Indicators("0", "0"), [Subfield("a", title.strip())]))
    if number:
        record.add_field(Field("264", Indicators(" ", "1"), [Subfield("c", str(number))]))
    for other in names[1:]:
        record.add_field(Field("700", Indicators("1", " "), [Subfield("a", other)]))
    if venue and venue.strip():
        record.add_field(Field("773", Indicators("0", " "), [Subfield("t", venue.strip())]))
    return record


_COLUMN = re.compile(r"COL (\w+) VAL (.*?)(?= COL \w+ VAL |$)")


def _magellan_row(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip() for m in _COLUMN.finditer(text.strip())}


def magellan(dataset: str = "Structured/DBLP-ACM", split: str = "valid") -> list[Pair]:
    """The DeepMatcher/Magellan pairs of one split as MARC pairs."""
    pairs = []
    with open(MAGELLAN / dataset / f"{split}.txt", encoding="utf-8") as stream:
        for line in stream:
            left, right, label = line.rstrip("\n").split("\t")
            a, b = _magellan_row(left), _magellan_row(right)
            pairs.append(
                Pair(
                    article_record(
                        a.get("title", ""), a.get("authors", ""), a.get("venue", ""), a.get("year")
                    ),
                    article_record(
                        b.get("title", ""), b.get("authors", ""), b.get("venue", ""), b.get("year")
                    ),
                    int(label),
                    (left.strip(), right.strip()),  # the row text identifies the record
                )
            )
    return pairs


def leipzig() -> tuple[dict[str, Record], dict[str, Record], set[tuple[str, str]]]:
    """The full Leipzig DBLP and ACM tables as MARC, and the gold mapping (DBLP id, ACM id)."""
    folder = CORPUS / "leipzig-DBLP-ACM"

    def table(name: str) -> dict[str, Record]:
        with open(folder / name, encoding="latin-1", newline="") as stream:
            return {
                row["id"]: article_record(row["title"], row["authors"], row["venue"], row["year"])
                for row in csv.DictReader(stream)
            }

    with open(folder / "DBLP-ACM_perfectMapping.csv", encoding="latin-1", newline="") as stream:
        gold = {(row["idDBLP"], row["idACM"]) for row in csv.DictReader(stream)}
    return table("DBLP2.csv"), table("ACM.csv"), gold


# ---- pymarc_dedupe human-labelled pairs ----------------------------------------------------


def _extracted_record(item: dict) -> Record:
    """Princeton's extracted fields (title, author, year, pagination, ...) as a MARC record."""
    record = Record(force_utf8=True)
    electronic = bool(item.get("is_electronic_resource"))
    record.leader = _leader(item.get("type_of") or "a", "m")
    year = item.get("publication_year")
    number = int(year) if year and str(year).isdigit() else None
    fixed = list(_fixed(number))
    if electronic:
        fixed[23] = "o"
    record.add_field(Field(tag="008", data="".join(fixed)))
    if item.get("author"):
        record.add_field(Field("100", Indicators("1", " "), [Subfield("a", item["author"])]))
    record.add_field(Field("245", Indicators("0", "0"), [Subfield("a", item.get("title") or "")]))
    if item.get("edition"):
        record.add_field(Field("250", Indicators(" ", " "), [Subfield("a", item["edition"])]))
    imprint = []
    if item.get("publisher_name"):
        imprint.append(Subfield("b", item["publisher_name"]))
    if number:
        imprint.append(Subfield("c", str(number)))
    if imprint:
        record.add_field(Field("264", Indicators(" ", "1"), imprint))
    if item.get("pagination"):
        record.add_field(Field("300", Indicators(" ", " "), [Subfield("a", item["pagination"])]))
    if electronic:
        record.add_field(
            Field("338", Indicators(" ", " "), [Subfield("a", "online resource"), Subfield("b", "cr")])
        )
    return record


def dedupe_pairs() -> list[Pair]:
    """The 101 human-labelled SCSB/Princeton pairs (dedupe.io training file) as MARC pairs.

    Two pairs appear under both "match" and "distinct" in the file; both labels are kept, as
    published, and flagged in `note`.
    """
    path = CORPUS / "pymarc_dedupe" / "for_comparison" / "data_matching_training.json"
    data = json.loads(path.read_text(encoding="utf-8"))

    def key(pair: dict) -> tuple[str, str]:
        a, b = pair["__value__"]
        return tuple(sorted((a["id"], b["id"])))  # type: ignore[return-value]

    both = {key(p) for p in data["match"]} & {key(p) for p in data["distinct"]}
    pairs = []
    for label, name in ((1, "match"), (0, "distinct")):
        for item in data[name]:
            a, b = item["__value__"]
            note = "labelled both match and distinct in the source" if key(item) in both else ""
            pairs.append(Pair(_extracted_record(a), _extracted_record(b), label, (a["id"], b["id"]), note))
    return pairs


# ---- GOLD_PAIRS.csv ---------------------------------------------------------------------------


def _nth_record(path: Path, index: int) -> Record:
    with open(path, "rb") as stream:
        _, results = marc.read_records(stream)
        for position, result in enumerate(r for r in results if r.record is not None):
            if position == index:
                return result.record  # type: ignore[return-value]
    raise LookupError(f"{path} has no record {index}")


def gold_pairs() -> tuple[list[Pair], list[str]]:
    """The curated cross-file pairs, each record read from its own file with netzone.marc.

    Returns the pairs and, separately, the rows whose files netzone.marc cannot read (marc4j's
    non-JSON "marc-json" serialization), with the reason.
    """
    pairs, unreadable = [], []
    with open(CORPUS / "GOLD_PAIRS.csv", newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            try:
                a = _nth_record(CORPUS / row["left_file"], int(row["left_record"]))
                b = _nth_record(CORPUS / row["right_file"], int(row["right_record"]))
            except LookupError as error:
                unreadable.append(str(error))
                continue
            left, right = row["left_file"].rsplit("/", 1)[-1], row["right_file"].rsplit("/", 1)[-1]
            label = 1 if row["expected"] == "match" else 0
            pairs.append(
                Pair(a, b, label, (row["left_file"], row["right_file"]), f"{row['level']}: {left} / {right}")
            )
    return pairs, unreadable
