"""Personas and a small world for tests, built through the same services as production."""
