"""Fixtures for the teams end-to-end tests (being built)."""
