"""External converters for formats Python cannot read itself: LibreOffice for legacy Word, Tesseract for scans.

Both are Debian packages (libreoffice-writer, tesseract-ocr + tesseract-ocr-chi-sim) found on PATH. They
are optional: a missing one turns into a `ConverterError` whose message names the package to install, so
a build reports the file and indexes the rest. Every run has a timeout and works in its own temporary
folder (LibreOffice with its own throw-away profile, so parallel build workers never share one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from index import config
from index.cleaning import close_cjk_spacing

#: Resolution pages are rendered at for OCR: 300 dpi is what Tesseract is trained for.
OCR_DPI = 300
OCR_LANGUAGE = "chi_sim"


class ConverterError(Exception):
    """A converter is missing, failed or timed out; the message says which and what to do."""


def libreoffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(path: Path) -> Path:
    """Convert a .doc/.wps file to .docx with LibreOffice headless; returns the .docx in a temporary folder.

    The caller removes it with `remove_converted`.
    """
    program = libreoffice()
    if program is None:
        raise ConverterError(f"{path.suffix.lower()} needs LibreOffice: install libreoffice-writer to read it")
    folder = Path(tempfile.mkdtemp(prefix="bulletins-lo-"))
    source = folder / f"input{path.suffix.lower()}"
    shutil.copyfile(path, source)
    command = [program, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
               "--nologo", "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(folder / "out"), str(source)]
    timeout = config.seconds("BULLETINS_CONVERT_TIMEOUT")
    try:
        subprocess.run(command, capture_output=True, timeout=timeout, check=False,
                       env={**os.environ, "HOME": str(folder)})
    except subprocess.TimeoutExpired as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise ConverterError(f"LibreOffice took longer than {timeout:.0f} s to convert it") from error
    converted = folder / "out" / "input.docx"
    if not converted.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        raise ConverterError("LibreOffice could not convert it (not a Word document, or damaged)")
    return converted


def remove_converted(converted: Path) -> None:
    """Delete the temporary folder of a conversion."""
    shutil.rmtree(converted.parent.parent, ignore_errors=True)


def ocr_missing() -> str | None:
    """None when Tesseract with Chinese data is installed, else what to install (for the error message)."""
    program = shutil.which("tesseract")
    if program is None:
        return "install tesseract-ocr-chi-sim"
    try:
        listing = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "install tesseract-ocr-chi-sim"
    languages = set((listing.stdout + listing.stderr).split())
    return None if OCR_LANGUAGE in languages else "install tesseract-ocr-chi-sim"


def ocr_pdf_pages(path: Path, pages: list[int]) -> list[str]:
    """The text of the given (0-based) pages of a PDF, rendered at `OCR_DPI` and read by Tesseract chi_sim."""
    with tempfile.TemporaryDirectory(prefix="bulletins-ocr-") as folder:
        return [ocr_image(image) for image in _render_pages(path, pages, Path(folder))]


def _render_pages(path: Path, pages: list[int], folder: Path) -> Iterator[Path]:
    """Render pages of a PDF to PNG files with pdfium (yielded one at a time to keep memory flat)."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as error:
        raise ConverterError(f"cannot render the PDF for OCR ({error})") from error
    try:
        for number in pages:
            image = document[number].render(scale=OCR_DPI / 72, grayscale=True).to_pil()
            target = folder / f"page-{number}.png"
            image.save(target)
            yield target
    finally:
        document.close()


def ocr_image(image: Path) -> str:
    """Chinese text of one page image by Tesseract (`chi_sim`), spaces between Chinese characters removed.

    Tesseract runs single-threaded: a build already runs one worker process per core.
    """
    program = shutil.which("tesseract")
    if program is None:
        raise ConverterError("scanned PDF: install tesseract-ocr-chi-sim to read it")
    timeout = config.seconds("BULLETINS_OCR_TIMEOUT")
    command = [program, str(image), "stdout", "-l", OCR_LANGUAGE]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired as error:
        raise ConverterError(f"Tesseract took longer than {timeout:.0f} s on a page") from error
    if result.returncode != 0:
        raise ConverterError(f"Tesseract failed: {result.stderr.strip()[:200]}")
    return close_cjk_spacing(result.stdout)
