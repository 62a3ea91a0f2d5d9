"""Documents deleted in Focus, recorded once with what Twinfield held for them (focus_deletions).

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
    run_script(op, "014_focus_deletions.sql")
