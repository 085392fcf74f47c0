"""Lambda event filtering (an event source's FilterCriteria) for the local pollers.

A record passes when it matches any of the filters; each filter's Pattern is an EventBridge-style
pattern (JSON). Supported comparisons: exact values (including null), prefix, suffix,
equals-ignore-case, anything-but (values or prefix), numeric ranges, exists, wildcard, and $or.
For SQS the body is matched as JSON when it is a JSON object, else as a plain string.
"""

from __future__ import annotations

import fnmatch
import json
import operator
from collections.abc import Callable
from typing import Any

_MISSING = object()
_NUMERIC = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">=": operator.ge, ">": operator.gt}


def compile_filters(filter_criteria: dict | None) -> list[dict]:
    """The patterns of a SAM/CloudFormation FilterCriteria ({"Filters": [{"Pattern": "..."}]})."""
    patterns = []
    for entry in (filter_criteria or {}).get("Filters") or []:
        pattern = entry["Pattern"]
        patterns.append(json.loads(pattern) if isinstance(pattern, str) else pattern)
    return patterns


def passes(patterns: list[dict], record: dict) -> bool:
    """True when there is no filter or the record matches at least one."""
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def sqs_view(record: dict) -> dict:
    """An SQS record as Lambda filters it: a JSON object body is matched by its fields."""
    body = record.get("body")
    try:
        parsed = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        parsed = body
    return {**record, "body": parsed if isinstance(parsed, dict) else body}


def matches(pattern: dict, event: Any) -> bool:
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in rule):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not _matches_any(rule, value):
                return False
        else:
            raise ValueError(f"filter pattern values must be lists or objects, not {rule!r} (key {key!r})")
    return True


def _matches_any(rules: list, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, dict):
            if _matches_operator(rule, value, values):
                return True
        elif value is not _MISSING and any(_equal(rule, item) for item in values):
            return True
    return False


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and expected == actual
    return expected == actual


def _matches_operator(rule: dict, value: Any, values: list) -> bool:
    ((name, argument),) = rule.items()
    if name == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    operator = _OPERATORS.get(name)
    if operator is None:
        raise ValueError(f"unsupported filter operator {name!r}")
    return operator(argument, values)


def _strings(values: list) -> list[str]:
    return [item for item in values if isinstance(item, str)]


def _prefix(argument: Any, values: list) -> bool:
    if isinstance(argument, dict):  # {"prefix": {"equals-ignore-case": "x"}}
        wanted = argument["equals-ignore-case"].lower()
        return any(item.lower().startswith(wanted) for item in _strings(values))
    return any(item.startswith(argument) for item in _strings(values))


def _suffix(argument: Any, values: list) -> bool:
    if isinstance(argument, dict):
        wanted = argument["equals-ignore-case"].lower()
        return any(item.lower().endswith(wanted) for item in _strings(values))
    return any(item.endswith(argument) for item in _strings(values))


def _anything_but(argument: Any, values: list) -> bool:
    if isinstance(argument, dict):
        if "prefix" in argument:
            return all(not (isinstance(item, str) and item.startswith(argument["prefix"])) for item in values)
        if "suffix" in argument:
            return all(not (isinstance(item, str) and item.endswith(argument["suffix"])) for item in values)
        raise ValueError(f"unsupported anything-but form {argument!r}")
    excluded = argument if isinstance(argument, list) else [argument]
    return all(not any(_equal(other, item) for other in excluded) for item in values)


def _numeric(argument: Any, values: list) -> bool:
    numbers = [item for item in values if isinstance(item, (int, float)) and not isinstance(item, bool)]
    numbers += [
        float(item) for item in _strings(values) if _is_number(item)
    ]  # DynamoDB "N" values are strings
    pairs = list(zip(argument[::2], argument[1::2], strict=True))
    return any(all(_NUMERIC[op](number, bound) for op, bound in pairs) for number in numbers)


# Content filtering operators besides "exists": (the rule's argument, the values found) -> matched.
_OPERATORS: dict[str, Callable[[Any, list], bool]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": lambda argument, values: any(
        item.lower() == argument.lower() for item in _strings(values)
    ),
    "wildcard": lambda argument, values: any(
        fnmatch.fnmatchcase(item, argument) for item in _strings(values)
    ),
    "anything-but": _anything_but,
    "numeric": _numeric,
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
