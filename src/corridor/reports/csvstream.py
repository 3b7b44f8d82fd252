"""CSV for downloads that may be large: UTF-8 with a byte-order mark (so that spreadsheets show
Arabic right), sent in chunks so that a large export starts at once and never times out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence


def csv_chunks(
    head: Sequence[Sequence[str]], rows: Iterable[Sequence[object]], *, rows_per_chunk: int = 1000
) -> Iterator[bytes]:
    """The ``head`` rows (a header, and for HXL its hashtag row), then ``rows``, as CSV bytes in
    chunks of ``rows_per_chunk`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerows(head)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
