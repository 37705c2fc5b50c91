"""OCR of scans: rasterise PDF pages with pdftoppm, read pages with Tesseract (German).

The command-line tools rather than pytesseract and pypdfium2: both are Debian packages
already needed (Poppler for the LibreOffice checks), they run as processes of their own
under the sandbox's limits, and nothing more is linked into Python.
pdftoppm at 300 dpi, as Tesseract reads printed text best at 300 dpi.
Runs inside the sandbox's child (see analyse.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from clause_tracker.documents.sandbox import Refused, ReturnedLimits

DPI = 300
LANGUAGE = "deu"
# One thread per Tesseract: the machines are small and shared; OpenMP would take every core.
_ENV = {"OMP_THREAD_LIMIT": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise Refused("ocr_unavailable", tool=name)
    return path


def check_image(path: Path, limits: ReturnedLimits) -> int:
    """The number of frames of the image file; refuses huge or too many pages unread."""
    # Opening reads the header only; Pillow's own guard would refuse before we know the size.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as image:  # reads the header only
            frames = getattr(image, "n_frames", 1)
            if frames > limits.max_ocr_pages:
                raise Refused("too_many_pages", pages=frames, limit=limits.max_ocr_pages)
            for frame in range(frames):
                image.seek(frame)
                width, height = image.size
                if width * height > limits.max_pixels:
                    raise Refused("image_too_large", width=width, height=height,
                                  limit=limits.max_pixels)
    except (OSError, SyntaxError, ValueError) as exc:
        raise Refused("corrupt_file", detail=str(exc)[:200]) from exc
    return frames


def check_page_sizes(sizes: list[tuple[float, float]], limits: ReturnedLimits) -> None:
    """Refuse a PDF whose pages, rasterised at 300 dpi, would exceed the pixel limit."""
    if len(sizes) > limits.max_ocr_pages:
        raise Refused("too_many_pages", pages=len(sizes), limit=limits.max_ocr_pages)
    for width_pt, height_pt in sizes:
        width, height = round(width_pt / 72 * DPI), round(height_pt / 72 * DPI)
        if width * height > limits.max_pixels:
            raise Refused("image_too_large", width=width, height=height,
                          limit=limits.max_pixels)


def ocr_pdf(data: bytes, limits: ReturnedLimits) -> list[str]:
    """One text per page of a scanned PDF."""
    with tempfile.TemporaryDirectory(prefix="clause-ocr-") as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        # Plain PGM, not PNG: compressing 300-dpi pages cost more time than reading them.
        _run([_tool("pdftoppm"), "-r", str(DPI), "-gray", str(source),
              str(Path(folder) / "page")], limits)
        pages = sorted(Path(folder).glob("page*.pgm"))
        return _tesseract(pages, limits)


def ocr_image(data: bytes, limits: ReturnedLimits) -> list[str]:
    """One text per frame (page) of a PNG, JPEG or TIFF."""
    with tempfile.TemporaryDirectory(prefix="clause-ocr-") as folder:
        source = Path(folder) / "in.img"
        source.write_bytes(data)
        frames = check_image(source, limits)
        if frames == 1:
            return _tesseract([source], limits)
        # Tesseract reads every frame of a TIFF but marks no page ends in plain text.
        pages = []
        with Image.open(source) as image:
            for frame in range(frames):
                image.seek(frame)
                page = Path(folder) / f"frame{frame:04d}.pgm"
                image.convert("L").save(page)
                pages.append(page)
        return _tesseract(pages, limits)


def _tesseract(pages: list[Path], limits: ReturnedLimits) -> list[str]:
    tesseract = _tool("tesseract")
    texts = []
    for page in pages:
        # No search for white-on-black text: contracts have none, and it costs a sixth.
        out = _run([tesseract, str(page), "stdout", "-l", LANGUAGE, "--psm", "3",
                    "-c", "tessedit_do_invert=0"], limits)
        texts.append(_fix_misreads(out.decode("utf-8", "replace")))
    return texts


# Tesseract's German model reads the section sign "§" as "$" (never in a German contract),
# "$S" or "8"; "8 3 AGG" is "§ 3 AGG" (a bare 8 before a number is no German usage).
_SECTION_SIGNS = re.compile(r"(?<![\w.,/-])(?:\$S?|8)(?= \d)|\$")
_DOUBLE_SECTION = re.compile(r"(?<![\w.,/-])(?:88|§§|§8|8§)(?= \d)")


def _fix_misreads(text: str) -> str:
    text = _DOUBLE_SECTION.sub("§§", text)
    return _SECTION_SIGNS.sub("§", text)


def _run(command: list[str], limits: ReturnedLimits) -> bytes:
    try:
        # The tools are found on PATH; the arguments are our own temporary file names.
        done = subprocess.run(command, capture_output=True, timeout=limits.wall_seconds,  # noqa: S603
                              env=_ENV, check=False)
    except subprocess.TimeoutExpired as exc:
        raise Refused("resource_limit", what="time") from exc
    if done.returncode < 0:  # killed by its CPU or memory limit
        raise Refused("resource_limit", what=Path(command[0]).name)
    if done.returncode != 0:
        raise Refused("corrupt_file", detail=done.stderr.decode("utf-8", "replace")[-200:])
    return done.stdout
