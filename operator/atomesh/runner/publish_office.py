"""Publish's page images of slides and documents (.pptx, .docx, .odp, .odt), rendered with LibreOffice.

The publisher — never the agent — writes each changed document's base and head versions into a
scratch folder, converts them all to PDF in one headless `soffice` run, then each PDF's pages to PNG
with poppler's `pdftoppm`; pages are compared before and after by position, as a slide sorter does.

The documents are the agent's, so LibreOffice runs contained: under a timeout that stops its whole
process group; with an environment holding nothing of the step's (no forge token); in a throwaway
profile that disables macros and blocks links to remote content; and in a network namespace of its own
(no network at all) wherever the kernel allows one, else behind a proxy setting that points nowhere.
Nothing here fails the run: without LibreOffice, or when a conversion fails, a note says what was not
rendered.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

from atomesh.review.office import OFFICE_SUFFIXES
from atomesh.review.surface import ChangedFile

SOFFICE_ENV = "ATOMESH_SOFFICE"
MAX_DOCUMENTS = 10
MAX_PAGES = 20  # per side of a document; later pages are not rendered, and the note says so
PAGE_PIXELS = 900  # the longest side of a page image
CONVERT_TIMEOUT_S = 60  # for the first document; each further one adds PER_DOCUMENT_S
PER_DOCUMENT_S = 20
RASTER_TIMEOUT_S = 60
NOT_INSTALLED = "page images of slides and documents not rendered: LibreOffice (soffice) is not installed"
# LibreOffice's user profile, seeded before its first start: macros never run, linked remote content is
# not fetched, and any HTTP(S) or FTP request goes to a proxy on a closed port.
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}
</oor:items>
"""
_SETTINGS = {
    "/org.openoffice.Office.Common/Security/Scripting": {
        "MacroSecurityLevel": "3",
        "DisableMacrosExecution": "true",
        "BlockUntrustedRefererLinks": "true",
    },
    "/org.openoffice.Inet/Settings": {
        "ooInetProxyType": "1",
        "ooInetHTTPProxyName": "127.0.0.1",
        "ooInetHTTPProxyPort": "9",
        "ooInetHTTPSProxyName": "127.0.0.1",
        "ooInetHTTPSProxyPort": "9",
        "ooInetFTPProxyName": "127.0.0.1",
        "ooInetFTPProxyPort": "9",
        "ooInetNoProxy": "",
    },
}


class ConversionFailed(RuntimeError):
    """LibreOffice or pdftoppm failed or timed out; the message says which and why."""


def office_tools(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(soffice, pdftoppm) paths, or None when either is missing."""
    configured = environ.get(SOFFICE_ENV)
    if configured:
        soffice = configured if Path(configured).exists() else None
    else:
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    return (soffice, pdftoppm) if soffice and pdftoppm else None


@cache
def network_isolation() -> tuple[str, ...]:
    """The command prefix that runs a program in a network namespace of its own, when the kernel lets
    this process create one; () otherwise."""
    prefix = ("unshare", "--net", "--map-root-user")
    if shutil.which("unshare") is None:
        return ()
    try:
        done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return prefix if done.returncode == 0 else ()


def _run(command: list[str], timeout: float, env: dict[str, str], what: str) -> None:
    """Run `command` in its own process group; on timeout the whole group is killed."""
    try:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
    except OSError as error:
        raise ConversionFailed(f"{what} did not start: {error}") from None
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ConversionFailed(f"{what} took longer than {timeout:.0f}s and was stopped") from None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # helpers LibreOffice left behind
    if process.returncode != 0:
        tail = output.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise ConversionFailed(f"{what} exited with {process.returncode}: {tail[0][:200]}")


def _seed_profile(profile: Path) -> None:
    items = "\n".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
        for path, props in _SETTINGS.items()
        for name, value in props.items()
    )
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE.format(items=items), encoding="utf-8")


def convert_to_pdf(documents: dict[str, bytes], soffice: str, scratch: Path) -> dict[str, Path]:
    """PDFs of `documents` (by name with its suffix, e.g. `3-after.pptx`), from one LibreOffice run; a
    document LibreOffice could not open has none."""
    source, out, home, profile = (scratch / name for name in ("in", "out", "home", "profile"))
    for folder in (source, out, home):
        folder.mkdir()
    _seed_profile(profile)
    for name, data in documents.items():
        (source / name).write_bytes(data)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8"}
    command = [
        *network_isolation(),
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--invisible",
        "--nologo",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        *(str(source / name) for name in documents),
    ]
    timeout = CONVERT_TIMEOUT_S + PER_DOCUMENT_S * (len(documents) - 1)
    _run(command, timeout, env, "LibreOffice")
    converted = {name: out / f"{PurePosixPath(name).stem}.pdf" for name in documents}
    return {name: pdf for name, pdf in converted.items() if pdf.is_file()}


def pdf_pages(pdf: Path, pdftoppm: str, scratch: Path) -> list[bytes]:
    """The first MAX_PAGES pages of `pdf` as PNG, in order."""
    folder = Path(tempfile.mkdtemp(prefix="pages-", dir=scratch))
    command = [pdftoppm, "-png", "-scale-to", str(PAGE_PIXELS), "-l", str(MAX_PAGES), str(pdf), str(folder / "p")]
    _run(command, RASTER_TIMEOUT_S, {"PATH": "/usr/bin:/bin"}, "pdftoppm")
    # pdftoppm names pages p-1.png or p-01.png (zero-padded to the page count's width).
    files = sorted(folder.glob("p-*.png"), key=lambda file: int(file.stem.rsplit("-", 1)[1]))
    return [file.read_bytes() for file in files]


def scratch_parent() -> str | None:
    """A short, writable temporary folder: LibreOffice's pipe to itself is a Unix socket under it
    (108 bytes at most), and the pod's TMPDIR may lie deep in a volume or not exist in this step."""
    for parent in ("/tmp", "/dev/shm", os.environ.get("TMPDIR", "")):
        if parent and os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK):
            return parent
    return None


@dataclass
class DocumentPages:
    """PNG pages of each rendered document by side ("before", "after"), and what was not rendered."""

    pages: dict[str, dict[str, list[bytes]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def render_document_pages(files: tuple[ChangedFile, ...], environ: Mapping[str, str]) -> DocumentPages:
    """Page images of every changed document, before and after (a side is absent when the file is)."""
    rendered = DocumentPages()
    documents = [changed for changed in files if PurePosixPath(changed.path).suffix.lower() in OFFICE_SUFFIXES]
    if not documents:
        return rendered
    tools = office_tools(environ)
    if tools is None:
        rendered.notes.append(NOT_INSTALLED)
        return rendered
    soffice, pdftoppm = tools
    if len(documents) > MAX_DOCUMENTS:
        skipped = ", ".join(changed.path for changed in documents[MAX_DOCUMENTS:])
        rendered.notes.append(f"only the first {MAX_DOCUMENTS} documents are rendered; not rendered: {skipped}")
    inputs: dict[str, bytes] = {}
    for index, changed in enumerate(documents[:MAX_DOCUMENTS]):
        suffix = PurePosixPath(changed.path).suffix.lower()
        for side, data in (("before", changed.before_data), ("after", changed.after_data)):
            if data is not None:
                inputs[f"{index}-{side}{suffix}"] = data
    if not inputs:
        return rendered
    parent = scratch_parent()
    if parent is None:
        rendered.notes.append("page images of slides and documents not rendered: no writable temporary folder")
        return rendered
    with tempfile.TemporaryDirectory(prefix="lo-", dir=parent) as scratch:
        try:
            pdfs = convert_to_pdf(inputs, soffice, Path(scratch))
        except (ConversionFailed, OSError) as error:
            rendered.notes.append(f"page images of slides and documents not rendered: {error}")
            return rendered
        for index, changed in enumerate(documents[:MAX_DOCUMENTS]):
            suffix = PurePosixPath(changed.path).suffix.lower()
            expected = [
                side for side, absent in (("before", "added"), ("after", "deleted")) if changed.status != absent
            ]
            names = {side: f"{index}-{side}{suffix}" for side in expected}
            try:
                missing = [side for side in expected if names[side] not in pdfs]
                if missing:
                    raise ConversionFailed(f"LibreOffice could not open or read the {' and '.join(missing)} version")
                sides = {side: pdf_pages(pdfs[names[side]], pdftoppm, Path(scratch)) for side in expected}
                if any(not pages for pages in sides.values()):
                    raise ConversionFailed("the PDF LibreOffice wrote has no page")
                rendered.pages[changed.path] = sides
                if max(len(pages) for pages in sides.values()) >= MAX_PAGES:
                    rendered.notes.append(f"{changed.path}: at most the first {MAX_PAGES} pages are rendered")
            except (ConversionFailed, OSError) as error:
                rendered.notes.append(f"{changed.path}: pages not rendered ({error})")
    return rendered
