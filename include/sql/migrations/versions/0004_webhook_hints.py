"""Focus webhook events kept as hints of which documents changed (webhook_hints).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(op, "020_webhook_hints.sql")
