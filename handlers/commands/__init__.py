"""One small module per command family; each takes (command, scope, HandlerContext) -> Reply."""
