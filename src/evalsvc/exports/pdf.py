"""HTML to PDF with WeasyPrint, which lays out CSS paged media (page size, running
headers, page counters, ``target-counter`` for tables of contents) and keeps inline
SVG as vectors.

WeasyPrint is a Python library but draws text with the system's Pango (Debian:
``libpango-1.0-0``, ``libpangoft2-1.0-0``) and the fonts fontconfig finds; Cyrillic
and Kazakh letters need a font that has them (Debian: ``fonts-dejavu-core``). When
Pango is missing, `html_to_pdf` raises `FeatureUnavailable` saying what to install,
never a traceback: the CLI prints it, the web answers 503 with it.

Nothing is fetched while rendering: our pages carry their stylesheets and charts
inline, and the URL fetcher refuses every URL but ``data:``, so text that reached a
page cannot make the renderer reach the network or the file system.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalsvc.errors import FeatureUnavailable

INSTALL_HINT = (
    "PDF output needs the Pango library and fonts with Cyrillic and Kazakh letters;"
    " on Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0"
    " fonts-dejavu-core"
)


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: cffi cannot load libpango
        raise FeatureUnavailable(
            f"{INSTALL_HINT} ({type(exc).__name__}: {exc})".replace("\n", " "),
            code="pdf_unavailable",
        ) from exc
    return weasyprint


def html_to_pdf(html: str, *, stylesheets: Sequence[str] = (), title: str | None = None) -> bytes:
    """The PDF of an HTML page; `stylesheets` (CSS text) are user sheets, below the
    page's own in the cascade."""
    weasyprint = _weasyprint()
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols=("data",))
    document = weasyprint.HTML(string=html, url_fetcher=fetcher)
    css = [weasyprint.CSS(string=text, url_fetcher=fetcher) for text in stylesheets]
    rendered = document.render(stylesheets=css)
    if title:
        rendered.metadata.title = title
    pdf: bytes = rendered.write_pdf()
    return pdf
