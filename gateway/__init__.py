"""The gateway: one entry point for clients, routing /api/v1 to the owning service, one Swagger UI."""
