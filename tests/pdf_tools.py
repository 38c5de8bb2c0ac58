"""Looking at PDFs as a reader would: poppler's pdftotext and pdftoppm (Debian's
poppler-utils, installed by scripts/test)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI


def need_poppler() -> None:
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        return
    if IN_CI:
        pytest.fail("CI must check PDFs: poppler-utils (pdftoppm, pdftotext) is not installed")
    pytest.skip("poppler-utils is not installed (scripts/test installs it where it can)")


def pdf_text(path: Path, first: int = 1, last: int | None = None) -> str:
    command = ["pdftotext", "-layout", "-f", str(first)]
    if last is not None:
        command += ["-l", str(last)]
    return subprocess.run(
        [*command, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    line = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def inked_share(path: Path, page: int) -> float:
    """Share of the page's pixels that are not white (rendered at 40 dpi, grey)."""
    out = subprocess.run(
        ["pdftoppm", "-gray", "-r", "40", "-f", str(page), "-l", str(page), str(path)],
        check=True,
        capture_output=True,
    ).stdout
    # binary PGM: "P5\n<width> <height>\n<max>\n" then one byte per pixel
    fields = out.split(maxsplit=4)
    assert fields[0] == b"P5", fields[0]
    width, height = int(fields[1]), int(fields[2])
    pixels = fields[4][-width * height :]
    return sum(1 for value in pixels if value < 200) / (width * height)
