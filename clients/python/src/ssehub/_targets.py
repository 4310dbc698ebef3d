"""The targets of a publish: exactly one of user, users, tenant, channel, broadcast."""

from __future__ import annotations

from typing import Literal, TypedDict, Union


class UserTarget(TypedDict):
    """Every connection of one user in the event's tenant."""

    userId: str


class UsersTarget(TypedDict):
    """Every connection of several users in the event's tenant."""

    userIds: list[str]


class TenantTarget(TypedDict):
    """Every connection of a tenant (the event's tenantId, which it must equal)."""

    tenantId: str


class ChannelTarget(TypedDict):
    """The subscribers of a channel in the event's tenant."""

    channel: str


class BroadcastTarget(TypedDict):
    """Every connection of every tenant; needs a token with the admin role."""

    broadcast: Literal[True]


Target = Union[UserTarget, UsersTarget, TenantTarget, ChannelTarget, BroadcastTarget]


def to_user(user_id: str) -> UserTarget:
    return {"userId": user_id}


def to_users(user_ids: list[str]) -> UsersTarget:
    return {"userIds": list(user_ids)}


def to_tenant(tenant_id: str) -> TenantTarget:
    return {"tenantId": tenant_id}


def to_channel(channel: str) -> ChannelTarget:
    return {"channel": channel}


def broadcast() -> BroadcastTarget:
    return {"broadcast": True}
