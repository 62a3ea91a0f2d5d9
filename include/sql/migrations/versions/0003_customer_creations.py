"""Customer creations recorded before they are sent, now that Twinfield numbers new customers.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(op, "013_customer_creations.sql")
