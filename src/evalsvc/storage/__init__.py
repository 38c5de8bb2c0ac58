"""Storage at the edge: the only package that knows SQL.

The rest of evalsvc sees the `Storage` port (port.py) and opens it with
`open_storage` (opening.py), which picks the backend: SQLite (sqlite.py), the
embedded default, or PostgreSQL (postgres.py), the server engine. The schema's
versions, in both dialects, are in migrations.py; the records that cross the port
in records.py.
"""

from evalsvc.storage.opening import open_storage
from evalsvc.storage.port import Storage

__all__ = ["Storage", "open_storage"]
