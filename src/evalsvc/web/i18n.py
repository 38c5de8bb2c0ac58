"""Interface translations (gettext catalogs in evalsvc/locales) and language choice.

Catalogs are standard .po files, compiled in memory at start with Babel, so
translators edit text files and no build step is needed.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zoneinfo
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format, get_timezone_gmt
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar import Request
from litestar.params import FromQuery

from evalsvc.exports.report_i18n import REPORT_LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
INTERFACE_LANGUAGES = ("en", "ru", "kk")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
LANG_COOKIE = "lang"


@functools.cache
def translations(lang: str) -> NullTranslations:
    po_path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext_for(lang: str) -> Callable[..., str]:
    gettext = translations(lang).gettext

    def translate(message: str, **values: Any) -> str:
        text = gettext(message)
        return text % values if values else text

    return translate


def interface_labels(lang: str) -> dict[str, str]:
    """Option labels the questionnaire model leaves to the interface."""
    _ = gettext_for(lang)
    return {
        "true": _("True"),
        "false": _("False"),
        "dont_know": _("I don't know"),
        "not_applicable": _("Does not apply to me"),
    }


def choose_language(request: Request, offered: Iterable[str], default: str) -> str:
    """?lang=, then the cookie, then Accept-Language, then the course default."""
    return _asked_language(request, request.query_params.get("lang"), offered) or default


def _asked_language(request: Request, lang: str | None, offered: Iterable[str]) -> str | None:
    offered = tuple(offered)
    for candidate in (lang, request.cookies.get(LANG_COOKIE)):
        if candidate in offered:
            return candidate
    for tag in _accept_language(request.headers.get("accept-language", "")):
        if tag in offered:
            return tag
    return None


async def provide_report_language(
    request: Request, lang: FromQuery[str | None] = None
) -> str | None:
    """Dependency `report_lang`, for every report endpoint (HTML pages, downloads, JSON
    with localized names): the language the reader wants reports in. ?lang=, else
    the login page's choice (its cookie), else Accept-Language. None when none of them
    names a report language: each report then takes its own default (English; a
    course's default language for its participants' files)."""
    return _asked_language(request, lang, REPORT_LANGUAGES)


def _accept_language(header: str) -> list[str]:
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower().split("-")[0]
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def page_context(request: Request, lang: str | None = None) -> dict[str, Any]:
    """What every page template needs: the language and its gettext."""
    lang = lang or choose_language(request, INTERFACE_LANGUAGES, "en")
    return {"lang": lang, "_": gettext_for(lang), "language_names": LANGUAGE_NAMES}


def parse_utc(stamp: str) -> dt.datetime:
    """A stored timestamp (ISO 8601, "Z" for UTC) as an aware datetime."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@functools.cache
def _babel_locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def local_time(moment: dt.datetime, lang: str, timezone: str) -> str:
    """`moment` as people at the venue read it: the course's time zone, the page's
    language (CLDR's long date and short time, e.g. "2026 ж. 1 желтоқсан, 08:11
    (GMT+05:00)"), formatted here so that no browser's gaps in locale data show."""
    locale = _babel_locale(lang)
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    date = format_date(local, "long", locale=locale)
    time = format_time(local, "short", locale=locale)
    # as babel.dates.format_datetime joins them: quotes only mark literal text
    joined = str(get_datetime_format("long", locale=locale)).replace("'", "").replace("{1}", date)
    return f"{joined.replace('{0}', time)} ({get_timezone_gmt(local, locale=locale)})"
