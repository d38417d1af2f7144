"""Where cases come in: registration and its decisions, the reception desk, the petitioner's query page."""
