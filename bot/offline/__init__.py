"""Offline tooling shipped in the wheel: loopback fakes of the platforms' APIs, the loopback
server starter, and the demo. Nothing here runs in `referent serve`."""
