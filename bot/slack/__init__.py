"""Slack adapter: Bolt in, neutral ChatEvents to handlers, Block Kit out."""
