"""The state store's SQL, installed as ``twinfield.sql``: ``schema/`` (the statements each migration runs),
``migrations/`` (Alembic: one revision per schema change) and ``queries/`` (queries that read best as SQL)."""
