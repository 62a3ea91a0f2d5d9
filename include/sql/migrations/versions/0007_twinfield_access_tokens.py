"""Twinfield access tokens kept for every task until they expire (twinfield_access_tokens).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(op, "015_twinfield_access_tokens.sql")
