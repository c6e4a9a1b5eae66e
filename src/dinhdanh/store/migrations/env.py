"""Alembic environment: the engine is handed in by dinhdanh.store.migrate."""

from alembic import context

from dinhdanh.models import metadata
from dinhdanh.store.migrate import COMPARE

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        **COMPARE,
    )
    context.run_migrations()
