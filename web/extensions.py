"""Unbound Flask extensions, bound in `create_app`."""

from flask_sqlalchemy import SQLAlchemy

from engine.db import Base

db = SQLAlchemy(model_class=Base)
