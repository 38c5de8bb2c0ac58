"""Printable cut-out code cards (`evalsvc codes issue --out cards.html`).

Every text on a card is printed in each of the card languages the organiser
chose (`--lang ru,kk,en`), in that order: the course title and the agency from
the course file, the fixed words from the interface catalogs. A language that
lacks a text is skipped for it rather than filled with another language's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import jinja2

from evalsvc.domain.questionnaire import Course, LocalText
from evalsvc.errors import ConfigError
from evalsvc.web.i18n import gettext_for

TEMPLATES = Path(__file__).resolve().parent / "web" / "templates"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


CARD_WORDS = {
    "code_label": N_("Your anonymous code"),
    "keep": N_("Keep this card until the end of the course; do not write your name on it."),
    "print": N_("Print on A4 at 100% (no “fit to page”), then cut along the dashed lines."),
    "count": N_("Cards on these sheets: %(count)s."),
}


def card_languages(course: Course, wanted: list[str] | None) -> list[str]:
    """The languages to print, in order: as asked, else the course's, default first."""
    if wanted is None:
        return list(dict.fromkeys([course.default_lang, *course.languages]))
    unknown = [lang for lang in wanted if lang not in course.languages]
    if unknown or not wanted:
        raise ConfigError(
            f"--lang {','.join(wanted)}: the course's languages are {', '.join(course.languages)}"
        )
    return list(dict.fromkeys(wanted))


def in_languages(texts: Mapping[str, str], languages: list[str]) -> list[tuple[str, str]]:
    """(lang, text) for each language that has its own text, each distinct text once."""
    out: list[tuple[str, str]] = []
    for lang in languages:
        text = texts.get(lang, "").strip()
        if text and text not in (shown for _, shown in out):
            out.append((lang, text))
    return out


def render_cards(
    course: Course, codes: list[str], agency: str | None, url: str, languages: list[str]
) -> str:
    agency_names: LocalText = next((a.name for a in course.agencies if a.id == agency), {})
    translate: dict[str, Callable[..., str]] = {lang: gettext_for(lang) for lang in languages}

    def words(key: str, **values: object) -> list[tuple[str, str]]:
        return in_languages(
            {lang: _(CARD_WORDS[key], **values) for lang, _ in translate.items()}, languages
        )

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return environment.get_template("cards.html").render(
        lang=languages[0],
        titles=in_languages(course.title, languages) or [(languages[0], course.id)],
        agencies=in_languages(agency_names, languages),
        url=url,
        codes=codes,
        code_label=words("code_label"),
        keep=words("keep"),
        instructions=words("print") + words("count", count=len(codes)),
    )
