"""Jinja2 templates (data only): the referat in md/html/docx and chat messages per locale."""
