"""HXL-tagged CSV: a header, a row of hashtags, the data; read back as written."""

from __future__ import annotations

import pytest

from corridor.core.errors import InputError
from corridor.reports.hxl import HASHTAG, HASHTAGS, hashtag_row, hxl_lines, read_hxl


def test_header_and_hashtags_read_back_with_every_row() -> None:
    header = ["person_id", "age_band", "sex", "gathering_point"]
    rows = [[f"p{i}", "18-59", "female", "حي الشعار"] for i in range(2500)]
    chunks = list(hxl_lines(header, rows, rows_per_chunk=1000))
    assert len(chunks) == 3  # streamed in chunks, not built whole
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith("\ufeff")
    read_header, tags, data = read_hxl(text)
    assert read_header == header
    assert tags == ["#meta +id", "#x_age +group", "#x_sex", "#loc +name +gathering"]
    assert data == rows


def test_every_hashtag_is_well_formed_and_counts_are_affected_people() -> None:
    assert all(HASHTAG.match(tag) for tag in HASHTAGS.values())
    assert hashtag_row(["arrived", "missing"]) == ["#affected +arrived", "#affected +missing"]
    assert hashtag_row(["lon", "lat", "pcode"]) == ["#geo +lon", "#geo +lat", "#loc +code"]


def test_a_column_without_a_hashtag_is_named() -> None:
    with pytest.raises(InputError, match="shoe_size"):
        hashtag_row(["person_id", "shoe_size"])


def test_text_without_a_hashtag_row_is_refused() -> None:
    with pytest.raises(InputError, match="no HXL hashtag row"):
        read_hxl("a,b\n1,2\n")
