"""Users, their roles per operation, API tokens, scanner devices and the access log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.server.columns import UTCDateTime
from corridor.server.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(default=False)


class Membership(Base):
    """A role of a user in one operation, or in every operation when ``operation_id`` is null."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "operation_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[str | None] = mapped_column(
        ForeignKey("operations.id", ondelete="CASCADE"), nullable=True
    )
    role: Mapped[str] = mapped_column(String(30))


class ApiToken(Base):
    """A user's bearer token, stored as its SHA-256 only."""

    __tablename__ = "api_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Device(Base):
    """A scanner registered to one operation; its token is stored as its SHA-256 only. Its id is
    its operation's own: another operation may have a scanner of the same id."""

    __tablename__ = "devices"
    __table_args__ = (PrimaryKeyConstraint("operation_id", "device_id", name="pk_devices"),)

    device_id: Mapped[str] = mapped_column(String(100))
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200))
    point: Mapped[str | None] = mapped_column(String(100), nullable=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AccessLogEntry(Base):
    """One access decision on personal data: who, what, allowed or denied."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(150))
    operation_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(60))
    decision: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
