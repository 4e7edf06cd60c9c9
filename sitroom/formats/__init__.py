"""Locale formats Django does not ship (FORMAT_MODULE_PATH); other languages use Django's."""
