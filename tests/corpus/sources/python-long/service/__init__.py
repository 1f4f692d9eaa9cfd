"""An in-process order API: the integration tests drive it and it logs every request."""
