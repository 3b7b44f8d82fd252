"""Request and response bodies for users, roles, tokens, devices and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from corridor.server.auth import Role


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The one rule for a password, on creation and on change.
Password = Annotated[str, Field(min_length=10, max_length=200, description="At least 10 characters.")]


class UserIn(_In):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@-]+$")
    password: Password


class UserOut(BaseModel):
    id: str
    username: str
    disabled: bool = False


class PasswordIn(_In):
    old_password: str = Field(min_length=1, max_length=200)
    new_password: Password


class MemberIn(_In):
    username: str = Field(min_length=1, max_length=100)
    role: Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class DeviceIn(_In):
    device_id: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="ASCII letters, digits and - _ . : only.",
    )
    label: str = Field(min_length=1, max_length=200)
    point: str | None = Field(default=None, description="Route point the scanner works at.")


class DeviceOut(BaseModel):
    device_id: str
    token: str = Field(description="Shown once; only its SHA-256 is stored.")


class DeviceStateOut(BaseModel):
    device_id: str
    label: str
    point: str | None
    revoked_at: datetime | None


class AccessLogOut(BaseModel):
    id: int
    at: datetime
    actor: str
    operation_id: str | None
    action: str
    decision: str
    path: str
