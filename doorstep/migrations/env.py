"""Alembic environment: migrations run on the connection Doorstep opened (or DOORSTEP_DATABASE_URL)."""

from alembic import context

import engine.models  # noqa: F401 - registers the engine tables
from doorstep.config import Settings
from doorstep.schema import load_all_models
from engine.db import Base, open_database

load_all_models()
config = context.config
db = config.attributes.get("engine") or open_database(Settings.from_environment().database_url)

with db.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    context.run_migrations()
