"""The sub-commands of `doorstep`, one module per group."""
