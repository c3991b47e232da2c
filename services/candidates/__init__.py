"""Candidates service: candidate profiles registered by partner job centres: skills, trade level, location, priority groups, consent and erasure."""
