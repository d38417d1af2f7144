"""The monthly report: figures, its posted text and CSV."""
