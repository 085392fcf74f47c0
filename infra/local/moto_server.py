"""`python -m local.moto_server [moto_server options]`: moto's server with the local stack's patches.

moto 5.2.5's `TransactWriteItems` deep-copies every table a transaction touches, once per item
of the transaction, so that it can roll back. The copy includes every item and every stream
record the table ever had, so each transaction costs time proportional to the table's whole
history: on a network table of a few thousand items, a three-item transaction (an object and its
two audit entries) took hundreds of milliseconds, and a run of writes slowed down quadratically.

`apply()` keeps moto's transaction logic and its all-or-nothing outcome but makes the backup
proportional to the transaction: the items the transaction names are copied before it runs,
and on failure they are put back and the stream records the transaction appended are dropped,
which is what the table-level restore achieved. Nothing else in moto changes. It is applied in
the moto server process the local stack starts; tests that use `moto.mock_aws` in-process may
call `apply()` too.
"""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path
from typing import Any

_state = threading.local()
_originals: dict[str, Any] = {}
_server_originals: dict[str, Any] = {}


def _table_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
    """Inside a patched transaction a "backup" of the table is the table itself (see `apply`)."""
    if getattr(_state, "in_transaction", False):
        return self
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
    return clone


class _Backup:
    """The items a transaction names, as they were, and where each table's stream ended."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]):
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.items: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, item or None)
        self.streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                table = backend.tables.get(op.get("TableName"))
                if table is None:
                    continue
                key = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                current = table.get_item(hash_key, range_key)
            except Exception:  # noqa: S112 - malformed requests fail in moto's own code, as before
                continue
            # Put, Delete and ConditionCheck replace or drop the stored item, never change it;
            # only Update changes it in place, so only then is a copy needed.
            self.items.append(
                (table, hash_key, range_key, copy.deepcopy(current) if op_type == "Update" else current)
            )
            if table.stream_shard is not None and id(table) not in self.streams:
                self.streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))

    def restore(self) -> None:
        for table, hash_key, range_key, item in reversed(self.items):
            if range_key is not None:
                if item is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            elif item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        for shard, length in self.streams.values():
            del shard.items[length:]


def apply() -> None:
    """Patch moto's DynamoDB TransactWriteItems (idempotent; `revert` undoes it)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if _originals:
        return
    original = DynamoDBBackend.transact_write_items
    _originals["transact_write_items"] = original
    _originals["__deepcopy__"] = Table.__dict__.get("__deepcopy__")

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backup = _Backup(self, transact_items)
        _state.in_transaction = True
        try:
            return original(self, transact_items)
        except BaseException:
            backup.restore()
            raise
        finally:
            _state.in_transaction = False

    Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def revert() -> None:
    """Undo `apply` (for tests that patch in-process)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if not _originals:
        return
    DynamoDBBackend.transact_write_items = _originals.pop("transact_write_items")  # type: ignore[method-assign]
    deepcopy = _originals.pop("__deepcopy__")
    if deepcopy is None:
        del Table.__deepcopy__  # type: ignore[attr-defined]
    else:
        Table.__deepcopy__ = deepcopy  # type: ignore[attr-defined]


def apply_server() -> None:
    """Per-request overheads of the moto_server process that do not change any answer.

    - `moto.backends.list_of_moto_modules()` lists moto's package directory (a listdir and a
      stat per service, about 150) on every request to route it by its Host header; the
      directory does not change while the server runs, so the list is read once.
    - werkzeug logs one line per request to moto.log; requests are not logged (warnings and
      errors still are).
    - the per-item and per-message costs that grow with a table or a queue (`_constant_item_size`,
      `_constant_time_queue`), and the per-value cost of DynamoDB's wire format
      (`_attribute_values_by_their_member`).
    """
    import logging

    from moto import backends

    if not getattr(backends.list_of_moto_modules, "netzone_cached", False):
        modules = tuple(backends.list_of_moto_modules())

        def list_of_moto_modules() -> tuple[str, ...]:
            return modules

        list_of_moto_modules.netzone_cached = True  # type: ignore[attr-defined]
        backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    _cache_condition_expressions()
    _constant_item_size()
    _constant_time_queue()
    _attribute_values_by_their_member()


def _constant_item_size() -> None:
    """Check an item's 400 KB limit once per item, not once per attribute.

    moto builds an item attribute by attribute into a `LimitedSizeDict`, which re-measures every
    attribute already there on each insertion: quadratic in the attributes, and a cluster item or
    a key item with a long list is measured element by element each time. The sum is the same
    at the end, so the limit is checked once on it (same error, same bound).
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    if "item_init" in _server_originals:
        return
    _server_originals["item_init"] = Item.__init__

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > 405000:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict(values)  # dict.update: no per-insertion re-measuring

    Item.__init__ = item_init  # type: ignore[method-assign]


def _constant_time_queue() -> None:
    """Receive and delete SQS messages without passes over the whole queue.

    A feed read faster than it is matched leaves thousands of batches on MatchQueue. moto's
    retention check computes every queue attribute (three counts over all messages) for each
    message it returns, and its delete scans the queue twice; here the retention period is read
    from the queue and a delete stops at its message (received messages are near the front).
    """
    from moto.core.utils import unix_time
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Queue, SQSBackend

    if "delete_message" in _server_originals:
        return
    _server_originals["delete_message"] = Queue.delete_message
    _server_originals["retention"] = SQSBackend.is_message_valid_based_on_retention_period

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # already deleted: SQS accepts it again
        for index, message in enumerate(self._messages):
            if message.had_receipt_handle(receipt_handle):
                self.pending_messages.discard(message)
                self.deleted_messages.update(message.all_receipt_handles)
                # A new list, as moto builds one: a receive iterating the old list is unaffected.
                self._messages = self._messages[:index] + self._messages[index + 1 :]
                return
        raise ReceiptHandleIsInvalid()

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = self.get_queue(queue_name).message_retention_period
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


def _cache_condition_expressions(size: int = 4096) -> None:
    """Parse each DynamoDB condition expression once, not twice per item and per request.

    moto lexes and parses a ConditionExpression on every use: a transaction of n conditional
    puts parses 3n times. The parse depends only on the expression, its names and its values,
    and the tree it gives is only read when evaluated, so trees are cached by those three
    (a bounded cache; errors are not cached and raise as before). The names and values the
    parser found, which moto's request validation reads, are restored on every hit.
    """
    import json
    from collections import OrderedDict

    from moto.dynamodb.comparisons import ConditionExpressionParser

    if getattr(ConditionExpressionParser.parse, "netzone_cached", False):
        return
    original = ConditionExpressionParser.parse
    _server_originals["parse"] = original
    cache: OrderedDict[str, tuple[Any, list[str], list[str]]] = OrderedDict()
    lock = threading.Lock()

    def parse(self: Any) -> Any:
        try:
            key = json.dumps(
                [
                    self.condition_expression,
                    self.expression_attribute_names,
                    self.expression_attribute_values,
                ],
                sort_keys=True,
            )
        except (TypeError, ValueError):  # not JSON (bytes in a value): parse as moto does
            return original(self)
        with lock:
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
        if hit is None:
            names_before, values_before = len(self.expr_attr_names_found), len(self.expr_attr_values_found)
            op = original(self)
            hit = (
                op,
                self.expr_attr_names_found[names_before:],
                self.expr_attr_values_found[values_before:],
            )
            with lock:
                cache[key] = hit
                while len(cache) > size:
                    cache.popitem(last=False)
            return op
        op, names, values = hit
        self.expr_attr_names_found.extend(names)
        self.expr_attr_values_found.extend(values)
        return op

    parse.netzone_cached = True  # type: ignore[attr-defined]
    ConditionExpressionParser.parse = parse  # type: ignore[method-assign]


def _attribute_values_by_their_member() -> None:
    """Parse and serialize a DynamoDB AttributeValue by the one member it has, not all ten.

    moto's model-driven parser and serializer visit every member of a structure shape for every
    value: an AttributeValue (S, N, B, SS, NS, BS, M, L, NULL, BOOL) costs ten look-ups, so a
    key item listing 100 clusters costs a thousand, and reading and writing items dominated the
    local stack's time. An AttributeValue holds exactly one member; for a value with one known
    member only that member is visited, with moto's own handler (anything else goes the usual
    way), so the outcome is the same.
    """
    from moto.core.parse import BaseJSONParser
    from moto.core.serialize import BaseJSONSerializer

    if "parse_structure" in _server_originals:
        return
    parse_structure = _server_originals["parse_structure"] = BaseJSONParser._parse_structure
    serialize_structure = _server_originals["serialize_structure"] = (
        BaseJSONSerializer._serialize_type_structure
    )

    def one_member(shape: Any, value: Any) -> tuple[str, Any] | None:
        if shape.name != "AttributeValue" or not isinstance(value, dict) or len(value) != 1:
            return None
        ((name, inner),) = value.items()
        member = shape.members.get(name)
        if member is None or inner is None or member.serialization.get("name", name) != name:
            return None
        return name, member

    def parse(self: Any, shape: Any, value: Any) -> Any:
        found = one_member(shape, value)
        if found is None:
            return parse_structure(self, shape, value)
        name, member = found
        parsed = self.MAP_TYPE()
        parsed[name] = self._parse_shape(member, value[name])
        return parsed

    def serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        found = one_member(shape, value) if key else None
        if found is None:
            return serialize_structure(self, serialized, value, shape, key)
        name, member = found
        wrapper = self.MAP_TYPE()
        member.parent = shape
        self._serialize_structure_member(wrapper, value, member, name)
        self._default_serialize(serialized, wrapper, shape, key)

    BaseJSONParser._parse_structure = parse  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_structure = serialize  # type: ignore[method-assign]


def revert_server() -> None:
    """Undo the model patches of `apply_server` (for tests that patch in-process)."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item
    from moto.sqs.models import Queue, SQSBackend

    if "parse" in _server_originals:
        ConditionExpressionParser.parse = _server_originals.pop("parse")  # type: ignore[method-assign]
    if "item_init" in _server_originals:
        Item.__init__ = _server_originals.pop("item_init")  # type: ignore[method-assign]
    if "delete_message" in _server_originals:
        Queue.delete_message = _server_originals.pop("delete_message")  # type: ignore[method-assign]
        SQSBackend.is_message_valid_based_on_retention_period = _server_originals.pop("retention")  # type: ignore[method-assign]
    if "parse_structure" in _server_originals:
        from moto.core.parse import BaseJSONParser
        from moto.core.serialize import BaseJSONSerializer

        BaseJSONParser._parse_structure = _server_originals.pop("parse_structure")  # type: ignore[method-assign]
        BaseJSONSerializer._serialize_type_structure = _server_originals.pop("serialize_structure")  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    apply()
    apply_server()
    if os.environ.get("NETZONE_LOCAL_MAILBOX"):  # the messages Cognito would send (local.mailbox)
        from local import mailbox

        mailbox.install(Path(os.environ["NETZONE_LOCAL_MAILBOX"]))
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main()
