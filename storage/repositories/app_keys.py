"""Keys the application makes for itself, made once and shared by every replica.

The first replica to need a key inserts a random one; a concurrent insert by another replica
loses quietly (ON CONFLICT DO NOTHING) and both read back the same row.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AppKey

LINK_SIGNING_KEY = "draft-link-signing-key"


def _insert(session: AsyncSession) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


async def get_or_create(session: AsyncSession, name: str, *, nbytes: int = 48) -> str:
    """The stored key `name`, made from `secrets.token_urlsafe(nbytes)` the first time."""
    stmt = (
        _insert(session)(AppKey)
        .values(name=name, value=secrets.token_urlsafe(nbytes))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await session.execute(stmt)
    return str((await session.execute(select(AppKey.value).where(AppKey.name == name))).scalar_one())
