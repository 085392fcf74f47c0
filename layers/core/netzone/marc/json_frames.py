"""Cutting MARC-in-JSON into records, in bounded memory, without parsing: `JsonFrames`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from netzone.marc.limits import MAX_JSON_RECORD_BYTES

# A record cut out: its offset in the feed, and its text (None when over MAX_JSON_RECORD_BYTES).
Frame = tuple[int, bytes | None]

# One document (an array, or records pretty-printed over lines), cut by brackets (possessive
# quantifiers, Python 3.11+: a string the chunk's end cuts fails at once, without backtracking):
# inside a record, everything up to the next bracket (or a string cut by the chunk's end) is one
# match, strings included whole; between records, whitespace and commas, or a bare literal.
_JSON_RUN = re.compile(rb'(?:[^"{}\[\]]++|"[^"\\]*+(?:\\.[^"\\]*+)*+")++', re.S)
_JSON_STRING_END = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)  # the rest of a string
_JSON_BETWEEN = re.compile(rb"[ \t\r\n,]+")
_JSON_LITERAL = re.compile(rb'[^ \t\r\n,"{}\[\]]+')
_JSON_BLANKS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[ \t\r\n]++', re.S)  # to squeeze long runs
_JSON_SQUEEZE = 4096  # a run inside a record longer than this has its whitespace squeezed
# JSON lines, a token at a time (only lines longer than a record can be come here): outside
# strings, blanks, a line break, a quote, a bracket, a comma or a run of anything else; inside,
# a run of plain bytes, an escape, a lone backslash, a line break or the closing quote.
_JSON_LINE_TOKEN = re.compile(rb'[ \t\r]+|\n|"|[{\[]|[}\]]|,|[^ \t\r\n"{}\[\],]+')
_JSON_IN_STRING = re.compile(rb'[^"\\\n]+|\\[^\n]|\\|\n|"')


def _squeeze(run: bytes) -> bytes:
    """A run of JSON with each stretch of whitespace outside strings made one space."""
    return _JSON_BLANKS.sub(lambda m: m.group() if m.group()[:1] == b'"' else b" ", run)


def _token(pattern: re.Pattern[bytes], data: bytes, pos: int) -> tuple[bytes, int]:
    """The token at `pos` and where the next one starts (the JSON lines patterns match any byte)."""
    match = pattern.match(data, pos)
    if match is None:
        raise ValueError(f"no JSON lines token at byte {pos}")  # not reached: see the patterns
    return match.group(), match.end()


class JsonFrames:
    """Cuts MARC-in-JSON bytes into the text of each record, in bounded memory, without parsing.

    Only strings (with their escapes) and brackets are followed: enough to find where a record
    starts and ends and which bytes are whitespace between tokens. Long stretches of that
    whitespace are squeezed to a space, so a record padded with a gigabyte of it is an ordinary
    record; a record whose text is still longer than MAX_JSON_RECORD_BYTES is cut out unread
    (its text None). Each record's text is then parsed by `json`, which says what is wrong
    with it. `lines`: JSON lines, a record per line (a line break ends a record whatever its
    brackets say); otherwise one document: top-level values, the elements of a top-level array
    being the records.
    """

    def __init__(self, lines: bool, offset: int = 0):
        self.lines = lines
        self.offset = offset  # of the current chunk in the feed
        self.depth = 0
        self.level = 0  # 1 inside a top-level array, whose elements are the records
        self.in_string = False
        self.parts: list[bytes] | None = None  # the open record's text; None: no record open
        self.size = 0
        self.start = 0
        self.over = False
        self.space = b""
        self.carry = b""  # an escape's backslash cut off by a chunk's end

    def feed(self, chunks: Iterable[bytes]) -> Iterator[Frame]:
        """(offset, text or None when over the limit) of each record in `chunks`, in order."""
        cut = self._line if self.lines else self._document
        for data in chunks:
            if self.carry:
                data, self.offset, self.carry = self.carry + data, self.offset - len(self.carry), b""
            yield from cut(data)
            self.offset += len(data)
        if self.carry:
            self._add(self.carry)
        if self.parts is not None:
            yield self._close()

    def _document(self, data: bytes) -> Iterator[Frame]:
        # The open record's bytes are taken from the chunk a slice at a time: data[mark:pos] is
        # the part not yet added.
        pos, end, mark = 0, len(data), 0
        while pos < end:
            found: Frame | None = None
            if self.in_string:
                match = _JSON_STRING_END.match(data, pos)
                if match is None:  # the string goes on in the next chunk
                    tail = data[pos:]
                    if (len(tail) - len(tail.rstrip(b"\\"))) % 2:
                        self.carry, end = data[-1:], end - 1
                    break
                pos, self.in_string = match.end(), False
                if self.depth == self.level:
                    self._add(data[mark:pos])
                    found = self._close()  # a string on its own: not a record, json says why
            elif self.parts is not None and self.depth > self.level:
                pos, mark, found = self._in_record(data, pos, mark)
            else:
                pos, mark, found = self._between(data, pos, mark)
            if found is not None:
                yield found
        self._add(data[mark:end])

    def _in_record(self, data: bytes, pos: int, mark: int) -> tuple[int, int, Frame | None]:
        """One step inside a record: a run up to the next bracket, or a bracket or quote.
        Returns the new position and mark, and the record the step ended, if any."""
        match = _JSON_RUN.match(data, pos)
        if match is not None:
            if match.end() - pos > _JSON_SQUEEZE:
                self._add(data[mark:pos])
                self._add(_squeeze(match.group()))
                mark = match.end()
            return match.end(), mark, None
        char = data[pos : pos + 1]
        pos += 1
        if char == b'"':
            self.in_string = True  # a string the chunk's end cuts
        elif char in b"{[":
            self.depth += 1
        else:
            self.depth -= 1
            if self.depth == self.level:
                return pos, mark, self._end(data, mark, pos)
        return pos, mark, None

    def _between(self, data: bytes, pos: int, mark: int) -> tuple[int, int, Frame | None]:
        """One step between records: separators, the top-level array's brackets, the start of
        a record, or a bare literal. Returns the new position and mark, and the record the step
        ended, if any."""
        match = _JSON_BETWEEN.match(data, pos)
        if match is not None:
            return match.end(), mark, self._end(data, mark, pos)  # a bare literal ends
        char = data[pos : pos + 1]
        if char == b"[" and self.depth == 0 and self.parts is None:
            self.depth = self.level = 1  # a top-level array: its elements are the records
            return pos + 1, mark, None
        if char == b"]" and self.level == 1:
            found = self._end(data, mark, pos)
            self.depth = self.level = 0  # the top-level array ends
            return pos + 1, mark, found
        if char in b'{["':
            found = self._end(data, mark, pos)
            self._open(pos)
            if char == b'"':
                self.in_string = True
            else:
                self.depth += 1
            return pos + 1, pos, found
        # A bare literal or a stray bracket: not a record; json says why.
        if self.parts is None:
            self._open(pos)
            mark = pos
        match = _JSON_LITERAL.match(data, pos)
        return (match.end() if match is not None else pos + 1), mark, None

    def _end(self, data: bytes, mark: int, pos: int) -> Frame | None:
        """The open record, its text ending at `pos`; None when no record is open."""
        if self.parts is None:
            return None
        self._add(data[mark:pos])
        return self._close()

    def _line(self, data: bytes) -> Iterator[Frame]:
        pos, end = 0, len(data)
        while pos < end:
            if self.in_string:
                token, pos = _token(_JSON_IN_STRING, data, pos)
                if token == b"\n":
                    yield self._close()  # a line break ends the record, even in a string
                elif token == b"\\" and pos == end:
                    self.carry = token
                else:
                    self.in_string = token != b'"'
                    self._add(token)
                continue
            at = pos
            token, pos = _token(_JSON_LINE_TOKEN, data, pos)
            if token == b"\n":
                if self.parts is not None:
                    yield self._close()
            elif token[:1] in b" \t\r":
                if self.parts is not None and not self.space:
                    self.space = token[:1]  # a run of blanks becomes its first byte
            else:
                if self.parts is None:
                    self._open(at)
                self.in_string = token == b'"'
                self._add(token)

    def _open(self, at: int) -> None:
        self.parts, self.size, self.over, self.space = [], 0, False, b""
        self.start = self.offset + at

    def _add(self, token: bytes) -> None:
        if self.parts is None:
            return
        if self.space:
            token, self.space = self.space + token, b""
        self.size += len(token)
        if self.over:
            return
        if self.size > MAX_JSON_RECORD_BYTES:
            self.over, self.parts = True, []  # too long to be a record: keep counting, not bytes
            return
        self.parts.append(token)

    def _close(self) -> Frame:
        text = None if self.over else b"".join(self.parts or [])
        found = (self.start, text)
        self.parts, self.space, self.in_string = None, b"", False
        self.depth = self.level if not self.lines else 0
        return found
