"""PDF/A-2b renderings of the city's own DOCX files (generated documents, the ECCAR report)
through LibreOffice headless, for the e-file.

LibreOffice runs as a child process of its own: a fresh profile in a temporary folder (no
shared state between conversions or with a user's LibreOffice), an environment holding only
PATH, HOME and the language, its own process group (killed whole at the time limit), limits
on CPU time and on the size of the files it writes, and the input written by us into that
folder (never a path a user chose). Only documents this application made are converted.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from flask_babel import lazy_gettext as _l

from clause_tracker.versioning import RefusedChange

PDF_MIMETYPE = "application/pdf"
# "2": PDF/A-2b (LibreOffice's SelectPdfVersion; 1 = PDF/A-1b, 3 = PDF/A-3b).
FILTER = "pdf:writer_pdf_Export:" + json.dumps({
    "SelectPdfVersion": {"type": "long", "value": "2"},
    "UseTaggedPDF": {"type": "boolean", "value": "true"},
}, separators=(",", ":"))
TIMEOUT_SECONDS = 90
CPU_SECONDS = 120
MAX_OUTPUT_BYTES = 200 * 1024 * 1024


class PdfUnavailable(RefusedChange):
    """No LibreOffice here, or it failed: the DOCX stays available."""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _limits() -> None:  # runs in the child between fork and exec
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def to_pdfa(docx: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The DOCX as PDF/A-2b; raises PdfUnavailable with a message for the user."""
    program = soffice()
    if program is None:
        raise PdfUnavailable(_l("The PDF/A version cannot be made here: LibreOffice is not "
                                "installed on the server. The DOCX is available."))
    with tempfile.TemporaryDirectory(prefix="clause-tracker-pdf-") as folder:
        work = Path(folder)
        source = work / "document.docx"
        source.write_bytes(docx)
        (work / "out").mkdir()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work),
               "LANG": "C.UTF-8", "SAL_USE_VCLPLUGIN": "svp"}
        command = [program, f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
                   "--norestore", "--nolockcheck", "--nodefault", "--convert-to", FILTER,
                   "--outdir", str(work / "out"), str(source)]
        # preexec_fn only sets rlimits (no locks taken, nothing imported).
        child = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL,  # noqa: S603
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 start_new_session=True, preexec_fn=_limits)
        try:
            child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            raise PdfUnavailable(_l("Making the PDF/A version took longer than %(seconds)d "
                                    "seconds and was stopped.", seconds=int(timeout))) from None
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        target = work / "out" / "document.pdf"
        if child.returncode != 0 or not target.exists():
            raise PdfUnavailable(_l("LibreOffice could not make the PDF/A version."))
        return target.read_bytes()
