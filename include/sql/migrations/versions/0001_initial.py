"""The schema of the first release (0.1.0): locks, token pairs, rate windows, the sync tables.

Its statements are all CREATE ... IF NOT EXISTS, so a database made by that release (which had no version
table) is taken over as it is: this revision changes nothing there and records it as 0001.

Revision ID: 0001
Revises:
"""

from alembic import op

from twinfield.state.schema import run_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for script in ("000_locks.sql", "001_tokens.sql", "002_rate_windows.sql", "010_sync.sql"):
        run_script(op, script)
