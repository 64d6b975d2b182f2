"""App manifests for Slack (YAML) and Teams (JSON and icons); data only."""
