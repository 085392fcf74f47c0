"""The base of every model a client writes: what it sends is taken as sent, or refused.

Extra fields are refused (a typo is not silently dropped); types are strict, so `true` is not a
version and `"3"` is not a priority; and text carries no control characters (a NUL or an escape
in a name breaks every system the name reaches). Fields listed in `multiline` may hold line
breaks and tabs, nothing else of the kind.
"""

from __future__ import annotations

import unicodedata
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

LINE_BREAKS = frozenset("\t\n\r")


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first character `text` may not hold, as U+XXXX, or None."""
    for character in text:
        if unicodedata.category(character) in ("Cc", "Cs") and not (multiline and character in LINE_BREAKS):
            return f"U+{ord(character):04X}"
    return None


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)
    multiline: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any, info: ValidationInfo) -> Any:
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for text in texts:
            if isinstance(text, str):
                found = control_character(text, multiline=info.field_name in cls.multiline)
                if found:
                    raise ValueError(f"the control character {found} is not allowed here")
        return value
