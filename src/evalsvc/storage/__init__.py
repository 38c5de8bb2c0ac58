"""Storage at the edge: the only package that knows SQL (all of it in sqlite.py).

`open_storage` (opening.py) is how the app and the CLI open it.
"""

from evalsvc.storage.opening import open_storage
from evalsvc.storage.sqlite import Database

__all__ = ["Database", "open_storage"]
