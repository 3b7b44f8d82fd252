"""Settings of the operations service, read from ``CORRIDOR_*`` environment variables.

Every setting is described in ``docs/operations.md`` (a test checks it).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("corridor-data")
# The project's checkout, when running from one (front-end packages and examples live there).
CHECKOUT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    """Where the service keeps its data and how it behaves."""

    model_config = SettingsConfigDict(env_prefix="CORRIDOR_", extra="forbid")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR}/corridor.db",
        description="SQLAlchemy URL: sqlite:///path.db (WAL mode) or postgresql+psycopg://...",
    )
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR, description="Folder for evidence files (stored encrypted)."
    )
    key_file: Path = Field(
        default=DEFAULT_DATA_DIR / "corridor.key",
        description="Encryption key for personal fields and evidence; keep it off the database "
        "host's backups. Made on first start if missing.",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="FULL",
        description="SQLite durability: FULL survives power loss; NORMAL survives a killed "
        "process only, and is faster.",
    )
    token_hours: float = Field(default=12.0, gt=0, description="Lifetime of a user's API token.")
    grace_minutes: float = Field(
        default=30.0,
        ge=0,
        description="Minutes past the plan's expected time before someone counts as not seen.",
    )
    retention_days: int = Field(
        default=90,
        ge=0,
        description="Days after an operation closes before personal data is purged.",
    )
    max_batch: int = Field(
        default=1000, ge=1, le=10_000, description="Most events in one batch request (at most 10,000)."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body, in bytes, of a route that names no other limit.",
    )
    max_event_bytes: int = Field(
        default=16 * 1024, ge=1024, description="Largest body of one scan event (POST .../events), in bytes."
    )
    max_batch_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest body of a batch of scan events (POST .../events/batch), in bytes.",
    )
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest body of a registration import, a published plan or the incident "
        "form of the pages (with its files), in bytes.",
    )
    clock_skew_minutes: float = Field(
        default=10.0,
        gt=0,
        description="Minutes an event may be dated ahead of the time the server received it, once "
        "its device's clock offset is taken off: dated later, it is stored but flagged, placed at "
        "its received time, and clears no alarm.",
    )
    clock_behind_days: float = Field(
        default=1.0,
        ge=0,
        description="Days before the operation's start (its first ceasefire window) that an "
        "event may be dated, once its device's clock offset is taken off: dated earlier, it is "
        "stored but flagged (an alarm it raises is placed at its received time).",
    )
    max_evidence_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1,
        description="Largest evidence file accepted, in bytes (counted while it streams in).",
    )
    argon2_time_cost: int = Field(default=3, ge=1, description="Argon2 passes per password hash.")
    argon2_memory_kib: int = Field(
        default=65536, ge=8, description="Argon2 memory per password hash, in KiB."
    )
    web_assets: Path = Field(
        default=CHECKOUT / "frontend" / "node_modules",
        description="Folder of the front-end packages installed from the npm registry by "
        "`make setup` (htmx, Leaflet, Swagger UI), served under /static/vendor.",
    )
    scenarios_dir: Path = Field(
        default=CHECKOUT / "examples",
        description="Folder searched (recursively) for the scenario file an operation names, "
        "for its map and plan pages.",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA time zone the pages show times in, with its name (e.g. Asia/Damascus); "
        "none: the UTC offset of the operation's scenario (its start), else UTC.",
    )
    tile_url: str | None = Field(
        default=None,
        description="Map tiles URL template ({z}/{x}/{y}); none by default: maps draw the "
        "scenario's own roads and work offline.",
    )
    max_import_rows: int = Field(
        default=200_000, ge=1, description="Most rows in one registration import file."
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 key that signs checkpoints of the ledger's head (mode 0600, in a "
        "folder of mode 0700, made when first needed); kept apart from the database, the data "
        "folder and their backups. Default: $XDG_CONFIG_HOME/corridor/ (~/.config/corridor/), "
        "one file per data folder; a key already in the old place, ledger-signing.key beside "
        "key_file, is still used (the log says how to move it).",
    )
    checkpoint_minutes: float = Field(
        default=10.0,
        ge=0,
        description="Minutes between signed checkpoints of the ledger's head (only when it has "
        "moved); 0 signs on demand only.",
    )

    scheduler: str | None = Field(
        default=None,
        description="Dask scheduler that runs plans and re-plans (tcp://HOST:8786); none by "
        "default: the service starts an embedded cluster of `workers` worker processes.",
    )
    workers: int = Field(
        default=2, ge=1, le=64, description="Worker processes of the embedded Dask cluster (one thread each)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        """A zone the system's time zone database knows (else the service does not start)."""
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(
                    f"{value!r} is not a known time zone: give an IANA name such as 'Asia/Damascus', "
                    "or leave CORRIDOR_TIMEZONE unset for the scenario's UTC offset"
                ) from error
        return value or None

    @property
    def signing_key_path(self) -> Path:
        """Where the ledger's signing key is kept: the setting; else a key already in the old
        place (beside the key file) if there is one; else the default, apart from the data."""
        if self.signing_key_file is not None:
            return self.signing_key_file
        if self.old_signing_key_path.exists():
            return self.old_signing_key_path
        return default_signing_key_path(self.data_dir)

    @property
    def old_signing_key_path(self) -> Path:
        """Where the signing key was made by default before: beside the key file, in the data."""
        return self.key_file.parent / "ledger-signing.key"


def config_home() -> Path:
    """``$XDG_CONFIG_HOME``, or ``~/.config`` when it is unset or empty."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def default_signing_key_path(data_dir: Path) -> Path:
    """The default signing key of the service whose data folder is ``data_dir``: in the user's
    configuration folder, never in the data folder that backups copy, named after the data
    folder (its name and a digest of its absolute path) so that two services never share it."""
    folder = data_dir.resolve()
    digest = hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", folder.name)[:40] or "root"
    return config_home() / "corridor" / f"ledger-signing-{name}-{digest}.key"
