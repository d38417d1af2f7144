"""Read models for pages: the inbox, the case page and its diagram, the auditor's view."""
