"""A small bookkeeping library, tested by a large table-driven suite."""
