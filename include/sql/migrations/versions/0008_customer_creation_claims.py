"""Customer creations claimed by one run at a time (customer_creations.claimed_at).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(op, "016_customer_creation_claims.sql")
