"""Alembic migrations of the operations database."""
