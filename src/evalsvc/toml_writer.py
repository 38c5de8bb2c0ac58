"""Course definitions written as TOML, in the style of surveys/README.md.

Python's tomllib only reads TOML; this writes the small part of it that course files
use, the way an organiser would: texts as dotted keys (``text.en = "..."``),
``[[items]]`` and ``[[items.options]]`` tables, inline tables for scale labels, dates
and offset date-times unquoted. A table's ``COMMENT`` key becomes ``# ...`` lines
above its keys (for the TODO markers of an import). Tests read the output back with
tomllib.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

COMMENT = "__comment__"
INLINE_ARRAYS = frozenset({"labels"})
"""Arrays of tables written inline, one table per line."""
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dumps(data: Mapping[str, Any]) -> str:
    lines: list[str] = []
    _table(lines, (), data)
    return "\n".join(lines).strip("\n") + "\n"


def _table(lines: list[str], path: tuple[str, ...], data: Mapping[str, Any]) -> None:
    for comment in data.get(COMMENT, ()):
        lines.append(f"# {comment}")
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if key == COMMENT:
            continue
        if _is_table_array(value) and key not in INLINE_ARRAYS:
            arrays.append((key, value))
        elif isinstance(value, Mapping) and not _is_flat(value):
            tables.append((key, value))
        else:
            lines.extend(_assignments(key, value))
    for key, value in tables:
        lines.extend(["", f"[{_dotted((*path, key))}]"])
        _table(lines, (*path, key), value)
    for key, tables_of_array in arrays:
        for entry in tables_of_array:
            lines.extend(["", f"[[{_dotted((*path, key))}]]"])
            _table(lines, (*path, key), entry)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _is_flat(value: Mapping[str, Any]) -> bool:
    return all(not isinstance(v, Mapping | list) for v in value.values())


def _assignments(key: str, value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [f"{_key(key)}.{_key(sub)} = {_value(v)}" for sub, v in value.items()]
    if _is_table_array(value):
        rows = [f"  {_inline(entry)}," for entry in value]
        return [f"{_key(key)} = [", *rows, "]"]
    return [f"{_key(key)} = {_value(value)}"]


def _inline(entry: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, value in entry.items():
        if isinstance(value, Mapping):
            parts.extend(f"{_key(key)}.{_key(sub)} = {_value(v)}" for sub, v in value.items())
        else:
            parts.append(f"{_key(key)} = {_value(value)}")
    return "{ " + ", ".join(parts) + " }"


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(_key(part) for part in path)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return _inline(value)
    raise TypeError(f"no TOML for a {type(value).__name__}")


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
