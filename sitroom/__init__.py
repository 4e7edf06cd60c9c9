"""Sitroom: an open-source crisis operations platform."""

__version__ = "0.1.0"
