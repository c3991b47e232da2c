"""Event payloads the notifications service publishes or consumes (the contract of SPEC §7)."""

from kit.events import EventRegistry

registry = EventRegistry()
