"""The simulated county and how its simulated staff act on each task."""
