"""Alembic migrations of the run store; applied by RunStore when it opens a database."""
