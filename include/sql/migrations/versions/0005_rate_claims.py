"""Rate windows written before sending, one row per hook (rate_claims), in place of rate_windows.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(op, "021_rate_claims.sql")
