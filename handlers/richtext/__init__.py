"""Member text as one neutral tree (model), its stored form (source), its inert Markdown
(markdown), cutting it for chat (shorten) and showing it back in a reply (echo)."""

from handlers.richtext.model import Doc, plain
from handlers.richtext.source import parse, to_source

__all__ = ["Doc", "parse", "plain", "to_source"]
