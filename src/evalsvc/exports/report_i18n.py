"""The reports' own words in Russian, Kazakh and English: a gettext domain of its own.

The participant pages' catalogs (``messages.po``) must be complete; report text is
longer and more technical, and a wrong Russian or Kazakh sentence about statistics is
worse than an English one. So report text lives in ``reports.po`` next to them
(``locales/<lang>/LC_MESSAGES/reports.po``), where a message may stay untranslated:
it is then shown in English, and marked as such -- `Text.localized` says which
language a text ended up in, so that a renderer can set ``lang="en"`` on it and add a
visible note.

Machine names (column names, ids, reason codes) are never translated; only words
meant for people are. Marked in the code as ``tr("...")`` (a `Text`), ``R_("...")``
(marked here, translated where shown) and the column descriptions of
``column("...", unit)``; babel.cfg says how to extract them.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "reports"
REPORT_LANGUAGES = ("en", "ru", "kk")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}


def R_(message: str) -> str:  # noqa: N802 - the marker's conventional name
    """Marks report text for extraction; it is translated where it is shown."""
    return message


class Localized(NamedTuple):
    text: str
    lang: str
    """The language `text` is in: the report's, or "en" where it fell back."""


class _Catalog(NamedTuple):
    translations: NullTranslations
    translated: frozenset[str]


@functools.cache
def _catalog(lang: str) -> _Catalog:
    path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not path.is_file():
        return _Catalog(NullTranslations(), frozenset())
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    translated = frozenset(
        str(m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and m.string and not m.fuzzy and (not isinstance(m.string, tuple) or all(m.string))
    )
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _Catalog(Translations(fp=buffer), translated)


class Text:
    """Report text in one language, falling back to English message by message."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in REPORT_LANGUAGES else "en"
        self._catalog = _catalog(self.lang)

    def has(self, message: str) -> bool:
        return self.lang == "en" or message in self._catalog.translated

    def __call__(self, message: str, **values: Any) -> str:
        return self.localized(message, **values).text

    def localized(self, message: str, **values: Any) -> Localized:
        if self.has(message):
            text, lang = self._catalog.translations.gettext(message), self.lang
        else:
            text, lang = message, "en"
        return Localized(text % values if values else text, lang)

    def n(self, singular: str, plural: str, count: int, **values: Any) -> str:
        """With the language's plural forms (Russian has three); `count` is %(n)s."""
        values = {"n": count, **values}
        if not self.has(singular):
            text = singular if count == 1 else plural
        else:
            text = self._catalog.translations.ngettext(singular, plural, count)
        return text % values

    def join(self, texts: Iterable[str]) -> str:
        return ", ".join(texts)


@functools.cache
def report_text(lang: str) -> Text:
    return Text(lang)


def untranslated_note(tr: Text) -> str:
    """The visible note on a paragraph shown in English in a report in another language."""
    return tr("Not yet translated: shown in English.")
