"""JobLink services: each package owns its data and talks to the others only through events."""
