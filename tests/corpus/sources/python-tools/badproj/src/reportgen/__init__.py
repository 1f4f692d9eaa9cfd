"""Report generator."""
