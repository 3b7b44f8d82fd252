"""Where the reference data lives (road networks, flow instances with optima computed by others).

It is not shipped (TNTP data is for research use): it is read from ``CORRIDOR_SHARED_DATA`` if set,
else from ``shared/data`` beside the checkout. Tests that need it are skipped, with the path in the
reason, when it is not there.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA = Path(
    os.environ.get("CORRIDOR_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
