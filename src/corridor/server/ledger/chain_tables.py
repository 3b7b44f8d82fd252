"""The ledger's proofs kept beside its entries: the record of the cut-over to the chain hash that
covers every column, and the signed checkpoints of the head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class LedgerCutOver(Base):
    """The entries ``1..entries`` were chained by the first form of the hash up to ``old_head``
    and re-chained from ``start_hash`` (the hash of this record, see ``corridor.ops.ledger.CutOver``)."""

    __tablename__ = "ledger_cutover"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(BigInteger)
    old_head: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    start_hash: Mapped[str] = mapped_column(String(64))


class LedgerCheckpoint(Base):
    """A signed statement that the chain's hash at ``position`` was ``head_hash`` at ``signed_at``
    (Ed25519, by the key whose public key's SHA-256 is ``key_id``)."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
