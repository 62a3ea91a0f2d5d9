"""Alembic environment of the state store: always run from ``twinfield.state.schema`` on a connection it
holds (under its lock), never from alembic.ini."""

from alembic import context

from twinfield.state.schema import VERSION_TABLE

context.configure(connection=context.config.attributes["connection"], version_table=VERSION_TABLE,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
