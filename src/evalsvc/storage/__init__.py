"""Storage at the edge: the only package that knows SQL (all of it in sqlite.py)."""

from evalsvc.storage.sqlite import Database

__all__ = ["Database"]
