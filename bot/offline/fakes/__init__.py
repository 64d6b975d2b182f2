"""Loopback stand-ins for the platforms' own HTTP APIs (a fake Slack Web API, a fake Bot Connector)
and request builders. Used by `referent demo`, the end-to-end tests and the benchmarks; never by
the production path."""
