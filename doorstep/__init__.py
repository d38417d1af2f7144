"""Application wiring of Doorstep: settings, database, migrations and the `doorstep` command."""
