"""Twinfield access tokens kept for every task until they expire (twinfield_access_tokens).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(op, "015_twinfield_access_tokens.sql")
