"""Import every module that defines tables, so the shared metadata knows them all."""

import importlib

MODEL_MODULES = ("engine.models", "engine.drafts", "workflows.org.models", "workflows.cases.record",
                 "workflows.org.accounts", "workflows.org.account_admin", "workflows.intake.petitioner_query",
                 "workflows.org.throttle", "workflows.org.login_sessions", "doorstep.replies")


def load_all_models() -> None:
    """Import each table-defining module that exists in this checkout."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
