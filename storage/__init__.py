"""Persistence: SQLAlchemy models, repositories and Alembic migrations. Knows no chat platform."""
