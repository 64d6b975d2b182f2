"""Fixtures for the slack end-to-end tests (being built)."""
