"""Reading MARCXML: pymarc's SAX handler on an incremental parser fed in chunks, each record held
to ISO 2709's limits as it is read."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import BinaryIO
from xml.sax import SAXException
from xml.sax.handler import feature_external_ges, feature_external_pes, feature_namespaces

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from pymarc import Field, Record
from pymarc.marcxml import XmlHandler

from netzone.marc.limits import (
    EMPTY_RECORD_BYTES,
    MAX_FIELD_BYTES,
    MAX_RECORD_BYTES,
    MAX_XML_MARKUP_BYTES,
    control_number,
    entry_bytes,
    field_too_long,
    record_too_long,
    subfield_bytes,
    utf8_size,
    xml_markup_too_long,
)
from netzone.marc.read_result import ReadResult
from netzone.marc.streams import CHUNK


class _StreamingHandler(XmlHandler):
    """pymarc's SAX handler, collecting per-record errors instead of stopping the feed, and
    holding each record to ISO 2709's limits as it is read.

    pymarc's handler keeps every piece of text it is given; this one keeps only the text of a
    leader, control field or subfield (the whitespace between elements is dropped), counts each
    record's ISO 2709 size as its fields end, and once a field or the record is over the limits
    marks the record rejected and drops the rest of it unread: a 256 MiB subfield costs no more
    memory than a 9,999-byte one.
    """

    _TEXT = ("leader", "controlfield", "subfield")

    def __init__(self) -> None:
        super().__init__(strict=False)
        self.ready: deque[tuple[Record | None, str | None, str | None]] = deque()
        self._error: str | None = None
        self._error_id: str | None = None
        self.events = 0  # callbacks so far: the reader tells markup expat holds from text it reports
        self._in_text: str | None = None  # the text element being read
        self._text_chars = 0
        self._record_bytes = 0  # the record's ISO 2709 size so far
        self._field_bytes = 0  # the data field's ISO 2709 size so far

    def startElementNS(self, name, qname, attrs):
        self.events += 1
        element = name[1]
        if element == "record":
            self._error = self._error_id = None
            self._record_bytes = EMPTY_RECORD_BYTES
        self._in_text, self._text_chars = None, 0
        if self._error:
            return
        try:
            super().startElementNS(name, qname, attrs)
        except Exception as exc:
            self._fail(f"<{element}> element is malformed ({type(exc).__name__}: {exc})")
            return
        if element in self._TEXT:
            self._in_text = element
        if element == "datafield" and self._field is not None:
            self._field_bytes = utf8_size(self._field.indicator1) + utf8_size(self._field.indicator2) + 1

    def characters(self, content):
        self.events += 1
        if self._error or self._in_text is None:
            return  # a rejected record's rest, or whitespace between elements: not kept
        self._text_chars += len(content)
        # Characters are at least as many bytes in UTF-8: over the limit in characters is over it.
        if self._in_text == "leader":
            if self._text_chars + EMPTY_RECORD_BYTES - 24 > MAX_RECORD_BYTES:
                self._fail(record_too_long())
                return
        elif self._text_chars > MAX_FIELD_BYTES:
            self._fail(field_too_long(self._field.tag if self._field is not None else "?"))
            return
        self._text.append(content)

    def endElementNS(self, name, qname):
        self.events += 1
        element = name[1]
        self._in_text = None
        if element == "record":
            if self._error:
                self._emit_reject()
                self._record = None
                return
        elif self._error:
            return
        field, code, text = self._field, self._subfield_code, "".join(self._text)
        try:
            super().endElementNS(name, qname)
        except Exception as exc:
            self._fail(f"</{element}> element is malformed ({type(exc).__name__}: {exc})")
            if element == "record":
                self._emit_reject()
            return
        self._count(element, field, code, text)

    def _count(self, element: str, field: Field | None, code: str | None, text: str) -> None:
        """The same sums as iso2709_problem, as the record is read: `element` has just ended."""
        if self._record is None or field is None:
            if element == "leader" and self._record is not None:
                self._record_bytes += utf8_size(text) - 24
            return
        if element == "subfield" and code:
            self._field_bytes += subfield_bytes(code, text)
            if self._field_bytes > MAX_FIELD_BYTES:
                self._fail(field_too_long(field.tag))
        elif element in ("controlfield", "datafield"):
            size = utf8_size(text) + 1 if element == "controlfield" else self._field_bytes
            if size > MAX_FIELD_BYTES:
                self._fail(field_too_long(field.tag))
                return
            self._record_bytes += entry_bytes(field.tag) + size
            if self._record_bytes > MAX_RECORD_BYTES:
                self._fail(record_too_long())

    def _fail(self, reason: str) -> None:
        self._error = reason
        self._error_id = control_number(self._record)
        self._field = None
        self._text = []
        self._in_text = None

    def _emit_reject(self) -> None:
        """The record that just ended was rejected: its reason goes out in its place."""
        self.ready.append((None, self._error, self._error_id))
        self._error = self._error_id = None

    def process_record(self, record: Record) -> None:
        self.ready.append((record, None, None))


def read_marcxml(stream: BinaryIO) -> Iterator[ReadResult]:
    handler = _StreamingHandler()
    parser = make_parser()
    parser.setFeature(feature_namespaces, True)
    # defusedxml refuses entity declarations (billion laughs); never fetch what a feed points at (XXE).
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(handler)
    position = 0
    # Bytes fed since the parser last reported anything: expat holds a tag, comment or
    # declaration whole until it ends, so a stretch without any report is one piece of markup.
    quiet = 0
    while True:
        data = stream.read(CHUNK)
        events = handler.events
        error = None
        try:
            if data:
                parser.feed(data)
            else:
                parser.close()
        except (SAXException, DefusedXmlException) as exc:
            error = (
                f"XML is not well-formed or not allowed ({type(exc).__name__}: {exc}); "
                "records after this point could not be read"
            )
        quiet = quiet + len(data) if handler.events == events else 0
        if error is None and quiet > MAX_XML_MARKUP_BYTES:
            error = xml_markup_too_long()
        while handler.ready:
            position += 1
            record, reason, identifier = handler.ready.popleft()
            yield ReadResult(position, None, record, reason, source_id=identifier)
        if error is not None:
            position += 1
            yield ReadResult(position, None, None, error)
            return
        if not data:
            return
