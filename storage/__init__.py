"""Persistence for Stammgast: SQLModel tables, engine and session set-up, queries and Alembic
migrations. SQLite (a file under data/, WAL mode) by default, PostgreSQL via DATABASE_URL.

Imports nothing from bot or domain.
"""
