"""Shared fixtures: where the reference data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference import SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
