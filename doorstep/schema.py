"""Import every module that defines tables, so the shared metadata knows them all."""

import importlib

MODEL_MODULES = ("engine.models", "engine.drafts", "workflows.org_models", "workflows.cases", "workflows.accounts",
                 "workflows.petitioner_query", "workflows.throttle")


def load_all_models() -> None:
    """Import each table-defining module that exists in this checkout."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
