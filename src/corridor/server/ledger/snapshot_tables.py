"""The kept fold of each operation's events, saved so that a restarted service extends it
instead of folding the whole ledger again (:mod:`corridor.server.ledger.snapshots`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class CountsSnapshot(Base):
    """An operation's fold up to ledger entry ``position``, whose hash was ``at_hash``, for the
    route whose fingerprint is ``route_hash``; ``body`` is sealed with the key file (it holds
    each person's status)."""

    __tablename__ = "counts_snapshots"

    operation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    at_hash: Mapped[str] = mapped_column(String(64))
    route_hash: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[bytes] = mapped_column(LargeBinary)
