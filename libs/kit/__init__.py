"""Shared plumbing for JobLink services: settings, database, events, outbox, inbox, bus, relay,
problem details, logging and metrics. No domain logic lives here."""
