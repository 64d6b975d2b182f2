"""End-to-end fixtures: each platform's fixtures live in their own plugin module."""

pytest_plugins = ["tests.e2e.slack_fixtures", "tests.e2e.teams_fixtures"]
