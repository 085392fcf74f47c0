"""Member contributions: a member's catalogers add records to the network through the API.

Alma's "control Network Zone imports": only members the central office allowed
(`import_permissions`) contribute, bibliographic and authority records separately. A
contribution is filed like a feed batch, under the same matching, as the records of provider
`member.<code>` (registered provider codes have no dot, so it is never a provider's). Every
record is checked before anything is filed: one bad record rejects the whole contribution
with a reason per record, so nothing is half-ingested.
Sending the same contribution again reports the outcomes it had and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from netzone import access, marc, screening
from netzone.batches import BatchRecord, RecordBatch
from netzone.errors import Denied, Invalid
from netzone.jobs import OUTCOMES
from netzone.record_filing import BatchResult

MAX_RECORDS = 50  # one batch: filed within one API call
MAX_RECORD_CHARS = 100_000
MAX_ISO2709_BYTES = 99_999  # the record length a leader can state
CONTRIBUTOR_PREFIX = "member."
CONTRIBUTORS = ("member_admin", "cataloger")


def contributor(member: str) -> str:
    """The provider code a member's contributions are filed under."""
    return f"{CONTRIBUTOR_PREFIX}{member}"


class ContributionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: str | None = Field(
        default=None, description="the contributing member; only the central office names another member"
    )
    records: list[dict] = Field(
        min_length=1, max_length=MAX_RECORDS, description="MARC-in-JSON records, each with its 001"
    )


class ContributedRecord(BaseModel):
    position: int
    source_id: str
    outcome: Literal["created", "merged", "unchanged", "review", "withdrawn", "rejected"]
    network_record: str | None = None  # the cluster id: GET /bibs/{id}
    review_task: str | None = None


class Contribution(BaseModel):
    contribution_id: str
    member: str
    provider: str
    counts: dict[str, int]
    records: list[ContributedRecord]


class MemberDirectory(Protocol):
    def get_member(self, principal: access.Principal, code: str): ...


class BatchFiler(Protocol):
    def file_batch(self, batch: RecordBatch) -> BatchResult: ...


def _shape_problem(data: dict) -> str | None:
    """What makes a MARC-in-JSON record unusable before pymarc sees it: wrong types, size."""
    if len(json.dumps(data, ensure_ascii=False)) > MAX_RECORD_CHARS:
        return f"a record may hold at most {MAX_RECORD_CHARS:,} characters (ISO 2709 caps it at 99,999 bytes)"
    if not isinstance(data.get("leader"), str) or not isinstance(data.get("fields"), list):
        return 'a MARC-in-JSON record has a "leader" string and a "fields" list'
    for field in data["fields"]:
        if not isinstance(field, dict) or len(field) != 1:
            return 'each field is an object with one tag, e.g. {"245": {...}} or {"001": "..."}'
        ((tag, value),) = field.items()
        if isinstance(value, str):
            continue
        subfields = value.get("subfields") if isinstance(value, dict) else None
        if not isinstance(subfields, list) or not all(
            isinstance(s, dict) and all(isinstance(v, str) for v in s.values()) for s in subfields
        ):
            return f"field {tag}: subfields are a list of {{code: text}} objects with text values"
    return None


def _unstorable(record) -> str | None:
    """Why the network could not store or serve the record (checked before anything is filed)."""
    try:
        encoded = record.as_marc()  # ISO 2709, UTF-8: the form it is served in
        marc.canonical_json(record)  # the form it is stored and compared in
    except UnicodeError as error:
        text = getattr(error, "object", "")
        where = f" near {text[max(0, error.start - 20) : error.start]!r}" if isinstance(text, str) else ""
        return f"the record holds text that is not Unicode (a lone surrogate){where}; send whole characters"
    except ValueError as error:
        return f"the record cannot be encoded as MARC ({error})"
    if len(encoded) > MAX_ISO2709_BYTES:
        return f"the record is {len(encoded):,} bytes as MARC; ISO 2709 allows at most {MAX_ISO2709_BYTES:,}"
    return None


def contribute(
    principal: access.Principal, body: ContributionBody, members: MemberDirectory, filer: BatchFiler
) -> Contribution:
    code = body.member or principal.member
    if code is None:
        raise Invalid("member-required", "network-wide staff contribute for a member: name it in 'member'")
    access.authorize(principal, CONTRIBUTORS, member=code)
    member = members.get_member(principal, code)  # NotFound when there is no such member
    if member.status not in ("active", "onboarding"):
        raise Denied("member-not-active", f"member {code} is {member.status} and cannot contribute records")
    records, faults = [], []
    for position, data in enumerate(body.records, start=1):
        shape = _shape_problem(data)
        if shape:
            faults.append({"position": position, "reason": shape})
            continue
        try:
            record = marc.marc_json_to_record(data)
        except Exception as error:  # pymarc raises many types for a bad MARC-in-JSON record
            faults.append({"position": position, "reason": f"not a MARC-in-JSON record ({error})"})
            continue
        kind = "authority" if str(record.leader)[6:7] == "z" else "bibliographic"
        if not getattr(member.import_permissions, kind):
            raise Denied(
                "import-not-permitted",
                f"member {code} may not contribute {kind} records to the network; the central office "
                f"grants it (PUT /members/{code} with import_permissions.{kind} = true)",
            )
        reason = screening.validate(record) or _unstorable(record)
        if reason:
            faults.append({"position": position, "source_id": screening.source_id(record), "reason": reason})
        records.append(record)
    source_ids = [screening.source_id(r) for r in records]
    repeated = sorted({s for s in source_ids if s and source_ids.count(s) > 1})
    if repeated:
        faults.append({"reason": f"the same 001 appears more than once: {', '.join(repeated)}"})
    if faults:
        raise Invalid(
            "invalid-records",
            f"{len(faults)} of {len(body.records)} records cannot enter the network; nothing was filed",
            errors=faults,
        )
    packed = [marc.record_to_marc_json(r) for r in records]
    digest = hashlib.sha256(json.dumps([code, packed], sort_keys=True).encode()).hexdigest()[:20]
    batch = RecordBatch(
        job_id=f"contribution-{digest}",
        provider=contributor(code),
        seq=0,
        records=[
            BatchRecord(position=n, source_id=source_id or "", marc=data)
            for n, (source_id, data) in enumerate(zip(source_ids, packed, strict=True), start=1)
        ],
    )
    result = filer.file_batch(batch)
    return Contribution(
        contribution_id=digest,
        member=code,
        provider=batch.provider,
        counts={name: result.counts.get(name, 0) for name in OUTCOMES},
        records=[ContributedRecord(**filed.model_dump()) for filed in result.filed],
    )
