"""Rate windows written before sending, one row per hook (rate_claims), in place of rate_windows.

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
    run_script(op, "021_rate_claims.sql")
