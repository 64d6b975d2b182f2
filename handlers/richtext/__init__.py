"""Member text as one neutral tree (model), its stored form (source) and its renderings."""

from handlers.richtext.model import Doc, plain
from handlers.richtext.source import parse, to_source

__all__ = ["Doc", "parse", "plain", "preview", "to_source"]


def preview(source: str, limit: int = 80) -> str:
    """A one-line plain-text preview of stored member text (for chat confirmations): what the
    member wrote without the stored form's markup characters."""
    from handlers.text import one_line

    return one_line(plain(parse(source)), limit)
