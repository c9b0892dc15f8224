"""Request and response bodies of the HTTP API (camelCase JSON), never domain events."""
