"""The application's database: an engine and a module-level session factory."""

import os

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

engine = create_async_engine(os.environ.get("APP_DATABASE_URL", "sqlite+aiosqlite://"))

try:
    from sqlalchemy.ext.asyncio import async_sessionmaker
except ImportError:  # SQLAlchemy 1.4 has no async_sessionmaker
    from sqlalchemy.orm import sessionmaker

    SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
else:
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
