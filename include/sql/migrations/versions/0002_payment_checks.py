"""What an invoice showed of its payments just before each registerPayment (payment_checks).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(op, "011_payment_checks.sql")
