"""End-to-end fixtures: each platform's fixtures live in their own module, imported here."""

from tests.e2e.slack_fixtures import *  # noqa: F403
from tests.e2e.teams_fixtures import *  # noqa: F403
