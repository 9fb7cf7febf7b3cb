"""Persistence for Stammgast: SQLModel tables, engine and units of work (sessions), the SQL that
differs between SQLite and PostgreSQL (``storage.sql``), and Alembic
migrations. SQLite (a file under data/, WAL mode) by default, PostgreSQL via DATABASE_URL.

Imports nothing from bot or domain.
"""
