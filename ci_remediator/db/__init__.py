"""Persistence: typed models, the per-process engine, and the store functions."""
