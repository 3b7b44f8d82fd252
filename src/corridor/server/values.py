"""Bounded value types for request bodies and parameters.

What a client sends is stored for good (the ledger is append-only), so every value a schema takes
has a range the databases can hold and a size that is reasonable: text has a length limit and no
NUL character (PostgreSQL refuses NUL in text), integers fit in 64 bits, floats are finite, and
times have a UTC offset, a year between 1900 and 2200, and convert to UTC without overflow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
FIRST_YEAR = 1900
LAST_YEAR = 2200


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters (\\u0000)")
    return value


def sane_time(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None
    if not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}, got {utc.year}")
    return value


# Text without NUL; give its length limits with ``Field(max_length=...)`` where it is used.
Text = Annotated[str, AfterValidator(no_nul)]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Moment = Annotated[AwareDatetime, AfterValidator(sane_time)]
