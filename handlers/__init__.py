"""Platform-neutral commands: a ChatEvent in, a Reply out. Knows neither Slack nor Teams."""
