"""Reading MARC-in-JSON: JSON lines (a record per line), or one document (a JSON array of
records, or records pretty-printed over lines), each record cut out as it is read."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import BinaryIO

from netzone.marc.forms import marc_json_to_record
from netzone.marc.json_frames import JsonFrames
from netzone.marc.limits import MAX_JSON_RECORD_BYTES, control_number, iso2709_problem, json_too_long
from netzone.marc.read_result import ReadResult
from netzone.marc.streams import CHUNK, buffered

_JSON_SPACE = b" \t\r\n"


def _json_mode(stream: BinaryIO) -> tuple[bool, int, bytes]:
    """Whether a MARC-in-JSON feed is JSON lines (or else one document: an array, or an object
    pretty-printed over lines), the bytes of leading whitespace skipped, and what was read
    beyond them (to be read again). JSON lines unless the feed starts with "[" or its first
    line is "{" alone; decided on at most MAX_JSON_RECORD_BYTES."""
    skipped, head = 0, b""
    while not head:
        data = stream.read(CHUNK)
        if not data:
            return True, skipped, b""
        head = data.lstrip(_JSON_SPACE)
        skipped += len(data) - len(head)
    if head[:1] == b"[":
        return False, skipped, head
    if head[:1] != b"{":
        return True, skipped, head
    while True:
        rest = head[1:].lstrip(b" \t\r")
        if rest:
            return rest[:1] != b"\n", skipped, head
        data = stream.read(CHUNK) if len(head) <= MAX_JSON_RECORD_BYTES else b""
        if not data:  # "{" and blanks to the end, or for longer than a record: a document
            return False, skipped, head
        head += data


def read_marc_json(stream: BinaryIO) -> Iterator[ReadResult]:
    """MARC-in-JSON: JSON lines (a record per line), or one document (a JSON array of records,
    or records pretty-printed over lines), each record cut out by `JsonFrames` as it is read."""
    lines, skipped, head = _json_mode(stream)
    rest = iter(lambda: stream.read(CHUNK), b"")
    position = 0
    if not lines:
        for _, text in JsonFrames(lines=False, offset=skipped).feed(itertools.chain([head], rest)):
            position += 1
            decoded = None if text is None else text.decode("utf-8", errors="replace")
            yield _json_text_result(position, None, decoded, text)
        return
    reader = buffered(head, stream)
    offset = skipped
    while line := reader.readline(MAX_JSON_RECORD_BYTES + 1):
        start, offset = offset, offset + len(line)
        if len(line) > MAX_JSON_RECORD_BYTES and not line.endswith(b"\n"):
            # A line longer than a record can be: read on to its end, blanks between tokens dropped.
            def to_line_end(first: bytes = line) -> Iterator[bytes]:
                nonlocal offset
                yield first
                while piece := reader.readline(CHUNK):
                    offset += len(piece)
                    yield piece
                    if piece.endswith(b"\n"):
                        return

            found = list(JsonFrames(lines=True, offset=start).feed(to_line_end()))
            if not found:
                continue
            start, text = found[0]
        else:
            text = line.rstrip(b"\r\n")
            if not text.strip():
                continue
        position += 1
        yield _json_text_result(position, start, text, text)


def _json_text_result(
    position: int, offset: int | None, text: str | bytes | None, raw: bytes | None
) -> ReadResult:
    if text is None:
        return ReadResult(position, offset, None, json_too_long())
    try:
        item = json.loads(text)
    except ValueError as exc:
        return ReadResult(position, offset, None, f"invalid MARC-in-JSON ({exc})", raw)
    return _json_result(position, offset, item, raw)


def _json_result(position: int, offset: int | None, item: object, raw: bytes | None) -> ReadResult:
    try:
        record = marc_json_to_record(item)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return ReadResult(position, offset, None, f"invalid MARC-in-JSON ({exc})", raw)
    problem = iso2709_problem(record)
    if problem:
        return ReadResult(position, offset, None, problem, raw, source_id=control_number(record))
    return ReadResult(position, offset, record, None, raw)
