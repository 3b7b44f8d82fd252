"""Users, roles, tokens, devices and the access log. Functions take a session; callers commit.

Accounts change in four ways besides creation: a user is disabled (their tokens are deleted and
refused from then on) or enabled again, changes their own password, loses a role in an
operation; a scanner's token is revoked. Routes record each change in the access log.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError, CorridorError, InputError
from corridor.server.access.names import check_device_name
from corridor.server.access.tables import AccessLogEntry, ApiToken, Device, Membership, User
from corridor.server.auth import Actor, Passwords, Role, new_token, token_digest
from corridor.server.columns import utc_now
from corridor.server.errors import AuthRequiredError, NotFoundError
from corridor.server.ids import new_id


def create_user(session: Session, *, username: str, password: str, passwords: Passwords) -> User:
    """A new user (hashing the password here: for seeding; requests hash it before their write
    transaction and call :func:`add_user`)."""
    return add_user(session, username=username, password_hash=passwords.hash(password))


def add_user(session: Session, *, username: str, password_hash: str) -> User:
    """A new user with a password hashed already (a name that could pass for another is refused:
    see :func:`check_new_name`)."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists already", where="username", hint="choose another name")
    check_new_name(session, username)
    user = User(
        id=new_id(),
        username=username,
        password_hash=password_hash,
        created_at=utc_now(),
        disabled=False,
    )
    session.add(user)
    session.flush()
    return user


def _reads_as(name: str) -> str:
    """The name as it reads: compatibility forms made plain (full-width letters) and case folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_new_name(session: Session, username: str) -> None:
    """Refuse a user name that could pass for another: one mixing scripts with look-alike letters
    (a Cyrillic "а" in "admin": 422), or one that reads as an existing user's name once case and
    letter forms are set aside ("Coordinator", "ｃoordinator": 409)."""
    if confusables.is_dangerous(username):
        raise InputError(
            f"user name {username!r} mixes scripts with letters that look alike",
            where="username",
            hint="write the name in one script (Latin or Arabic, for instance)",
        )
    reads = _reads_as(username)
    for existing in session.scalars(select(User.username)):
        if _reads_as(existing) == reads:
            raise ConflictError(
                f"user name {username!r} reads as the existing user {existing!r}",
                where="username",
                hint="choose a name that differs in more than case or letter forms",
            )


def keep_a_coordinator(session: Session, user: User) -> None:
    """Refuse to leave nobody who can administer (no enabled coordinator of every operation):
    called before ``user`` loses the coordinator role in every operation or is disabled.

    The rows read are locked (on PostgreSQL; SQLite writes one at a time) so that two
    coordinators stepping each other down at once cannot both pass."""
    held = session.execute(
        select(User.id, User.disabled)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.operation_id.is_(None), Membership.role == str(Role.COORDINATOR))
        .with_for_update()
    ).all()
    others = {row.id for row in held if row.id != user.id and not row.disabled}
    if any(row.id == user.id for row in held) and not others:
        raise ConflictError(
            f"{user.username} is the last enabled coordinator of every operation",
            where="username",
            hint="give another user the coordinator role in every operation first",
        )


def grant(session: Session, *, user_id: str, role: Role, operation_id: str | None) -> None:
    """Give ``role`` to a user in one operation (or in every operation when None); idempotent."""
    exists = session.scalar(
        select(Membership.id).where(
            Membership.user_id == user_id,
            Membership.role == str(role),
            Membership.operation_id.is_(None)
            if operation_id is None
            else Membership.operation_id == operation_id,
        )
    )
    if exists is None:
        session.add(Membership(user_id=user_id, operation_id=operation_id, role=str(role)))
        session.flush()


class WrongPasswordError(CorridorError):
    """The current password given to change it is wrong (400: the caller's token is fine)."""


def set_disabled(session: Session, *, user: User, disabled: bool, by_user_id: str | None) -> None:
    """Disable a user (their tokens are deleted, and they cannot log in) or enable them again.
    The last enabled coordinator of every operation is not disabled, nor is the caller."""
    if disabled:
        keep_a_coordinator(session, user)
    if disabled and user.id == by_user_id:
        raise ConflictError(
            "you cannot disable yourself",
            where="username",
            hint="ask another coordinator with a global role",
        )
    user.disabled = disabled
    if disabled:
        session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.flush()


def set_password(
    session: Session, *, user_id: str, checked_hash: str, new_hash: str, keep_token: str
) -> None:
    """Store a new password hash for a user whose current hash is ``checked_hash`` (the one the
    old password was checked against, outside this transaction); the user's other tokens are
    deleted. 401 if the account was disabled, 409 if its password changed meanwhile."""
    user = session.get(User, user_id)
    if user is None or user.disabled:
        raise AuthRequiredError("this account is disabled or gone", hint="ask a coordinator")
    if user.password_hash != checked_hash:
        raise ConflictError(
            "the password was changed meanwhile", where="old_password", hint="log in again and retry"
        )
    user.password_hash = new_hash
    session.execute(
        delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.token_sha256 != token_digest(keep_token))
    )
    session.flush()


def revoke_membership(session: Session, *, user_id: str, role: Role, operation_id: str) -> None:
    """Take ``role`` in one operation from a user (a role held in every operation stays)."""
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.role == str(role),
            Membership.operation_id == operation_id,
        )
    )
    if membership is None:
        raise NotFoundError(
            f"the user has no role {role} in this operation",
            where="role",
            hint="a role held in every operation cannot be taken from one operation",
        )
    session.delete(membership)
    session.flush()


def device_in(session: Session, *, operation_id: str, device_id: str) -> Device:
    device = session.get(Device, (operation_id, device_id))
    if device is None:
        raise NotFoundError(f"no device {device_id!r} in this operation", where="device_id")
    return device


def revoke_device(session: Session, device: Device) -> None:
    """Refuse the device's token from now on; the events it sent stay in the ledger. Idempotent."""
    if device.revoked_at is None:
        device.revoked_at = utc_now()
        session.flush()


def user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}", where="username")
    return user


def new_api_token(session: Session, *, user_id: str, hours: float) -> tuple[str, datetime]:
    """A new bearer token for a user and when it expires (only its SHA-256 is stored)."""
    token = new_token("usr")
    now = utc_now()
    expires = now + timedelta(hours=hours)
    session.add(
        ApiToken(token_sha256=token_digest(token), user_id=user_id, created_at=now, expires_at=expires)
    )
    return token, expires


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The user or device a bearer token belongs to, or None if it is unknown or expired."""
    digest = token_digest(token)
    if token.startswith("dev_"):
        device = session.scalar(select(Device).where(Device.token_sha256 == digest))
        if device is None or device.revoked_at is not None:
            return None
        return Actor(
            kind="device",
            name=device.device_id,
            device_operation=device.operation_id,
            device_point=device.point,
        )
    row = session.execute(
        select(User, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_sha256 == digest)
    ).first()
    if row is None or row[1] < utc_now() or row[0].disabled:
        return None
    user: User = row[0]
    roles: dict[str | None, set[Role]] = {}
    for membership in session.scalars(select(Membership).where(Membership.user_id == user.id)):
        roles.setdefault(membership.operation_id, set()).add(Role(membership.role))
    return Actor(
        kind="user",
        name=user.username,
        user_id=user.id,
        roles={op: frozenset(r) for op, r in roles.items()},
    )


def register_device(
    session: Session, *, operation_id: str, device_id: str, label: str, point: str | None
) -> str:
    """Register a scanner and return its token (shown once; only its digest is kept). Its id is
    unique within the operation; names the service uses itself are refused."""
    check_device_name(device_id)
    if session.get(Device, (operation_id, device_id)) is not None:
        raise ConflictError(
            f"device {device_id!r} is registered in this operation already",
            where="device_id",
            hint="give each scanner its own id",
        )
    token = new_token("dev")
    session.add(
        Device(
            device_id=device_id,
            operation_id=operation_id,
            label=label,
            point=point,
            token_sha256=token_digest(token),
            created_at=utc_now(),
        )
    )
    session.flush()
    return token


def log_access(
    session: Session, *, actor: str, operation_id: str | None, action: str, decision: str, path: str
) -> None:
    session.add(
        AccessLogEntry(
            at=utc_now(),
            actor=actor,
            operation_id=operation_id,
            action=action,
            decision=decision,
            path=path,
        )
    )


def access_log(
    session: Session, *, operation_id: str | None, limit: int, before_id: int | None
) -> list[AccessLogEntry]:
    query = select(AccessLogEntry).order_by(AccessLogEntry.id.desc()).limit(limit)
    if operation_id is not None:
        query = query.where(AccessLogEntry.operation_id == operation_id)
    if before_id is not None:
        query = query.where(AccessLogEntry.id < before_id)
    return list(session.scalars(query))
