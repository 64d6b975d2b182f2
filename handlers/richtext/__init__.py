"""Member text as one neutral tree (model), its stored form (source) and its renderings."""

from handlers.richtext.model import Doc, plain
from handlers.richtext.source import parse, to_source

__all__ = ["Doc", "parse", "plain", "to_source"]
