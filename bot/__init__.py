"""Runtime: configuration, the aiohttp server, the Slack and Teams adapters, scheduler and CLI."""
