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

import contextlib
import contextvars
import functools
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol

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
            _note_fallback()
        # a message with values is a format; one without is shown as written, except
        # that "%%" (a message that is a format elsewhere) stands for "%"
        return Localized(text % values if values else text.replace("%%", "%"), lang)

    def n(self, singular: str, plural: str, count: int, **values: Any) -> str:
        """With the language's plural forms (Russian has three); `count` is %(n)s."""
        values = {"n": count, **values}
        if not self.has(singular):
            text = singular if count == 1 else plural
            _note_fallback()
        else:
            text = self._catalog.translations.ngettext(singular, plural, count)
        return text % values

    def join(self, texts: Iterable[str]) -> str:
        return ", ".join(texts)


@functools.cache
def report_text(lang: str) -> Text:
    return Text(lang)


def untranslated_note(tr: Speaker) -> str:
    """The visible note on a paragraph shown in English in a report in another language."""
    return tr("Not yet translated: shown in English.")


# -- the language of the report being rendered ----------------------------------------------

_CURRENT: contextvars.ContextVar[Text] = contextvars.ContextVar("report_text")
_FALLBACKS: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "report_fallbacks", default=None
)


def _note_fallback() -> None:
    found = _FALLBACKS.get()
    if found is not None:
        found.append(True)


def paragraph(build: Callable[[], str]) -> Localized:
    """A paragraph made of several messages, all in the report's language -- or, if any
    of them has no translation, all in English (never a sentence of each)."""
    lang = current().lang
    token = _FALLBACKS.set([])
    try:
        text = build()
        missed = bool(_FALLBACKS.get())
    finally:
        _FALLBACKS.reset(token)
    if not missed or lang == "en":
        return Localized(text, lang)
    with using("en"):
        return Localized(build(), "en")


@contextlib.contextmanager
def using(lang: str) -> Iterator[Text]:
    """Render in `lang`: `tr` below speaks it until the block ends (per thread/task)."""
    token = _CURRENT.set(report_text(lang))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def current() -> Text:
    """The language of the report being rendered (English outside `using`)."""
    return _CURRENT.get(report_text("en"))


class Speaker(Protocol):
    """What the renderers call report text through: a `Text`, or `tr` (the current one)."""

    @property
    def lang(self) -> str: ...

    def __call__(self, message: str, **values: Any) -> str: ...

    def localized(self, message: str, **values: Any) -> Localized: ...

    def n(self, singular: str, plural: str, count: int, **values: Any) -> str: ...

    def has(self, message: str) -> bool: ...


class _Current:
    """`tr("...")` in the renderers: the current report's `Text`, looked up at each call."""

    @property
    def lang(self) -> str:
        return current().lang

    def __call__(self, message: str, **values: Any) -> str:
        return current()(message, **values)

    def localized(self, message: str, **values: Any) -> Localized:
        return current().localized(message, **values)

    def n(self, singular: str, plural: str, count: int, **values: Any) -> str:
        return current().n(singular, plural, count, **values)

    def has(self, message: str) -> bool:
        return current().has(message)


tr = _Current()
