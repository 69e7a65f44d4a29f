"""Conversion of .docx to PDF through LibreOffice (headless).

Choice (documented): Debian's ``python3-uno`` only works with the system
Python, not from a virtualenv, so no UNO bridge is used.  Instead ONE
``soffice`` process is started and kept running with its own profile
directory (``-env:UserInstallation``).  Each batch is converted with a
single ``soffice --convert-to pdf --outdir D f1 f2 ...`` call using the SAME
profile: LibreOffice forwards the request to the running instance over its
IPC pipe and the short-lived client exits when the batch is done, so the
expensive start-up (~1.5 s) is paid once (a batch then costs ~0.3 s plus
the conversion itself), and many files share one call.  The instance keeps
a hidden blank Writer document open: without it LibreOffice 7.x quits after
serving the first forwarded request.  It listens on a localhost socket only
to show it is up (``is_alive``).
If the persistent instance has died, the client call simply starts its own
instance for that batch (slower, still correct).

Nothing a document holds makes LibreOffice fetch anything: every document has its external
relationships removed before conversion (:func:`docgen.package.strip_external_relationships`;
templates with any are refused at upload anyway), and the profile is written with link updates
set to "never", untrusted referer links blocked and macros disabled (:data:`LOCKED_DOWN_XCU`).

    pdfs = convert_to_pdf([("phieu-1.docx", docx_bytes), ...])
    pdfs = convert_to_pdf(packets, merged="in-tat-ca.pdf")  # also one PDF of them all, for printing

:func:`convert_to_pdf` is the one way to make PDFs, and it is built for many documents:

* :class:`PdfConverterPool` runs one instance per core (separate profiles), fed from one queue;
* documents made from the same template (same styles, headers, page setup: :func:`join_key`) are
  joined into conversions of about :data:`CHUNK_PAGES` pages (``CombinedDocxWriter(sections=True)``:
  each keeps its own sections), with a bookmark where each begins.  LibreOffice spends about
  50 ms of CPU opening and exporting any document besides some 40 ms per page: one-sheet packets
  joined by 24 pages take about a quarter less CPU per page and far fewer client calls, while
  packets of five pages or more gained nothing (measured with ``bench/mailmerge.py --pdf-cell``,
  which prints the figures) and are converted alone; much bigger conversions get slower per page
  again (layout is not linear);
* the PDF of a conversion is split back per document at the pages its bookmarks point to (exported
  as named destinations); if a mark is missing, those documents are converted one by one instead
  (slower, never wrong);
* the print-everything PDF is the conversions' PDFs joined by pdfium (no re-rendering, each
  conversion's fonts once).
"""
from __future__ import annotations

import atexit
import hashlib
import io
import math
import os
import posixpath
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from . import safexml
from .combine import CombinedDocxWriter, _rels_name, _Source
from .errors import DocgenError, PdfConversionError, SofficeNotFoundError
from .package import strip_external_relationships

# Writer bookmarks become named destinations: joined documents are split back at their marks.
PDF_FILTER = 'pdf:writer_pdf_Export:{"ExportBookmarksToPDFDestination":{"type":"boolean","value":"true"}}'
_ITEM = '<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
LOCKED_DOWN_SETTINGS = [
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "2"),  # 2 = never update links
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "2"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
]
LOCKED_DOWN_XCU = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "\n".join(_ITEM.format(path=p, name=n, value=v) for p, n, v in LOCKED_DOWN_SETTINGS)
    + "\n</oor:items>\n")


def _lock_down_profile(profile_dir: Path) -> None:
    """Write the locked-down settings into a profile LibreOffice has not set up yet."""
    xcu = profile_dir / "user" / "registrymodifications.xcu"
    if not xcu.exists():
        xcu.parent.mkdir(parents=True, exist_ok=True)
        xcu.write_text(LOCKED_DOWN_XCU, encoding="utf-8")


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    for path in ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice",
                 "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if os.path.exists(path):
            return path
    return None


class PdfConverter:
    """A persistent headless LibreOffice used for batch conversions."""

    def __init__(self, soffice: str | None = None, *, profile_dir: str | Path | None = None,
                 timeout: float = 300.0):
        self.soffice = find_soffice() if soffice is None else soffice
        if not self.soffice or not (os.path.isfile(self.soffice) or shutil.which(self.soffice)):
            raise SofficeNotFoundError(
                "LibreOffice (soffice) not found; install libreoffice-writer-nogui",
                "Máy chủ chưa cài LibreOffice (soffice), không chuyển được sang PDF")
        self._own_profile = profile_dir is None
        self.profile_dir = Path(profile_dir or tempfile.mkdtemp(prefix="noicutru-lo-"))
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    @property
    def _profile_arg(self) -> str:
        return "-env:UserInstallation=" + self.profile_dir.resolve().as_uri()

    def _base_cmd(self) -> list[str]:
        return [self.soffice, self._profile_arg, "--headless", "--invisible", "--norestore",
                "--nologo", "--nodefault", "--nolockcheck"]

    def start(self) -> None:
        """Start the persistent instance (idempotent) and wait until it serves."""
        if self._proc is not None and self.is_alive():
            return
        if self._proc is not None:
            self.close()
        port = self._port = _free_port()
        # A hidden blank Writer document keeps the headless instance alive after it
        # has served a forwarded --convert-to request (without it, LibreOffice 7.x
        # terminates once the request's documents are closed).
        server_cmd = [a for a in self._base_cmd() if a != "--nodefault"]
        # The office process itself (not the launcher script, which forks it): it then gets
        # the parent-death signal, so it ends with this process even if this one is killed.
        binary = Path(os.path.realpath(self.soffice)).with_name("soffice.bin")
        if binary.exists():
            server_cmd[0] = str(binary)
        def launch() -> subprocess.Popen:
            return _launcher().run(lambda: subprocess.Popen(
                server_cmd + [f"--accept=socket,host=127.0.0.1,port={port};urp;", "private:factory/swriter"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,  # own process group: close() ends all of it
                preexec_fn=_die_with_parent))
        _lock_down_profile(self.profile_dir)
        self._proc = launch()
        restarts = 0
        deadline = time.monotonic() + 60
        while True:
            if self._proc.poll() == 81 and restarts < 3:  # a new profile was set up: start again
                restarts += 1
                self._proc = launch()
                continue
            if self._proc.poll() not in (None, 0):  # the launcher may exit 0 and leave soffice.bin
                raise PdfConversionError(f"soffice exited at start-up (code {self._proc.returncode})",
                                         "LibreOffice không khởi động được")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break  # listening: the instance is up and owns the profile
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise PdfConversionError("soffice did not start within 60 s",
                                             "LibreOffice khởi động quá lâu") from None
                time.sleep(0.1)
        # Warm-up: a first conversion through the running instance proves it serves.
        self._convert_locked([("warmup.docx", _blank_docx())])

    def is_alive(self) -> bool:
        """True if the persistent instance still listens on its port."""
        try:
            with socket.create_connection(("127.0.0.1", self._port), timeout=0.5):
                return True
        except (OSError, AttributeError):
            return False

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the group we created in start()
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait(timeout=5)
        if self._own_profile:
            shutil.rmtree(self.profile_dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *a):
        self.close()

    def convert(self, items: list[tuple[str, bytes]]) -> list[bytes]:
        """Convert (name, docx bytes) pairs; return PDF bytes in the same order."""
        items = list(items)
        if not items:
            return []
        with self._lock:
            self.start()
            return self._convert_locked(items)

    def _convert_locked(self, items):
        with tempfile.TemporaryDirectory(prefix="noicutru-pdf-") as tmp:
            src, out = Path(tmp, "in"), Path(tmp, "out")
            src.mkdir()
            out.mkdir()
            paths = []
            for i, (_name, data) in enumerate(items):
                # ASCII names inside the temp dir: the caller's names may be anything
                p = src / f"doc{i:05d}.docx"
                try:
                    p.write_bytes(strip_external_relationships(data))
                except (zipfile.BadZipFile, DocgenError, ValueError, SyntaxError) as exc:  # SyntaxError: bad XML
                    raise PdfConversionError(f"{_name!r} is not a readable .docx: {exc}",
                                             f"Không chuyển được {_name} sang PDF: tệp không phải .docx hợp lệ") from exc
                paths.append(p)
            cmd = self._base_cmd() + ["--convert-to", PDF_FILTER,
                                      "--outdir", str(out)] + [str(p) for p in paths]
            try:
                res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                     timeout=self.timeout)
            except subprocess.TimeoutExpired as exc:
                raise PdfConversionError(f"LibreOffice timed out after {self.timeout}s",
                                         "LibreOffice chuyển sang PDF quá thời gian cho phép") from exc
            results = []
            for (name, _), p in zip(items, paths):
                pdf = out / (p.stem + ".pdf")
                if not pdf.exists() or pdf.stat().st_size == 0:
                    raise PdfConversionError(
                        f"LibreOffice did not convert {name!r} (exit {res.returncode}): "
                        f"{res.stderr.decode('utf-8', 'replace')[-500:]}",
                        f"Không chuyển được {name} sang PDF")
                results.append(pdf.read_bytes())
            return results


class _Launcher:
    """One thread, living as long as the process, that starts the office instances.

    The parent-death signal (:func:`_die_with_parent`) fires when the THREAD that started a child
    ends, not the process: an instance started from a pool's start-up thread or a web request's
    thread was killed as soon as that thread finished, and every conversion then started a
    LibreOffice of its own (seconds each).  Started from here, an instance lives until the process
    ends (or :meth:`PdfConverter.close`).
    """

    def __init__(self):
        self.pid = os.getpid()
        self._jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._serve, name="soffice-launcher", daemon=True).start()

    def _serve(self) -> None:
        while True:
            fn, box, done = self._jobs.get()
            try:
                box.append((True, fn()))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box.append((False, exc))
            done.set()

    def run(self, fn):
        box: list = []
        done = threading.Event()
        self._jobs.put((fn, box, done))
        done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value


_launcher_instance: _Launcher | None = None
_launcher_lock = threading.Lock()


def _launcher() -> _Launcher:
    global _launcher_instance
    with _launcher_lock:  # a forked worker process gets its own thread
        if _launcher_instance is None or _launcher_instance.pid != os.getpid():
            _launcher_instance = _Launcher()
        return _launcher_instance


def _die_with_parent() -> None:
    """In the child before exec (Linux): receive SIGTERM when the thread that started it ends (:class:`_Launcher`)."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: close() at exit still ends the instance


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _blank_docx() -> bytes:
    import io

    from docx import Document
    buf = io.BytesIO()
    Document().save(buf)
    return buf.getvalue()


_default_lock = threading.Lock()


class PdfConverterPool:
    """Several persistent LibreOffice instances (one per core by default), each with its own profile.

    One LibreOffice converts one document at a time on one core; the pool converts a batch on all
    cores at once. Items are handed out from one queue (largest first), so a long document on one
    instance does not hold up the others.
    """

    def __init__(self, size: int | None = None, *, soffice: str | None = None, timeout: float = 300.0):
        self.size = max(1, int(size or pool_size()))
        self.converters = [PdfConverter(soffice, timeout=timeout) for _ in range(self.size)]

    def start(self) -> None:
        errors: list[BaseException] = []

        def start_one(c: PdfConverter) -> None:
            try:
                c.start()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        threads = [threading.Thread(target=start_one, args=(c,)) for c in self.converters]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def close(self) -> None:
        for c in self.converters:
            c.close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *a):
        self.close()

    def convert(self, items: list[tuple[str, bytes]]) -> list[bytes]:
        """Convert (name, docx bytes) pairs on every instance; PDF bytes in the same order."""
        items = list(items)
        if not items:
            return []
        if self.size == 1 or len(items) == 1:
            return self.converters[0].convert(items)
        results: list[bytes | None] = [None] * len(items)
        # biggest documents first; small ones are taken a few at a time (one soffice call each)
        order = sorted(range(len(items)), key=lambda i: -len(items[i][1]))
        chunk = max(1, len(items) // (self.size * 4))
        lock = threading.Lock()
        errors: list[BaseException] = []

        def work(converter: PdfConverter) -> None:
            while not errors:
                with lock:
                    if not order:
                        return
                    take, order[:] = order[:chunk], order[chunk:]
                try:
                    for i, pdf in zip(take, converter.convert([items[i] for i in take])):
                        results[i] = pdf
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                    errors.append(exc)
                    return
        threads = [threading.Thread(target=work, args=(c,), name=f"pdf-{n}")
                   for n, c in enumerate(self.converters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results  # type: ignore[return-value]


def pool_size() -> int:
    """LibreOffice instances of the default pool: NOICUTRU_PDF_WORKERS, or one per core (at most 8)."""
    env = os.environ.get("NOICUTRU_PDF_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


_default_pool: PdfConverterPool | None = None


def default_pool() -> PdfConverterPool:
    """Process-wide pool, its instances started on first use, closed at exit."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = PdfConverterPool()
            atexit.register(_default_pool.close)
        return _default_pool


CHUNK_PAGES = 24  # pages per conversion of joined documents (measured best of 12/24/48: bench/mailmerge.py --pdf-chunk)
JOIN_MAX_PAGES = 3  # longer documents convert alone: joining 5-page packets saved LibreOffice no CPU (bench)
MARK = "nctpart{:05d}"  # bookmark names: letters and digits only (LibreOffice escapes others in PDF names)


def convert_to_pdf(items, *, pool: PdfConverterPool | None = None, merged=None,
                   chunk_pages: int | None = None) -> list[bytes]:
    """Convert (name, docx bytes) pairs to PDF; return one PDF per document, in the same order.

    Runs on the pool (the process-wide one unless given) with documents of the same template joined
    into conversions of about ``chunk_pages`` pages and split back (module docstring).  With
    ``merged`` (a path or binary file), also writes every document as one PDF, in order.
    """
    items = list(items)
    pool = pool or default_pool()
    chunks: list[list[int]] = []
    jobs = []
    for chunk in plan_chunks(items, chunk_pages or CHUNK_PAGES, pool.size):
        if len(chunk) > 1:
            try:
                jobs.append((f"joined-{len(jobs)}.docx", join_documents([items[i][1] for i in chunk])))
                chunks.append(chunk)
                continue
            except DocgenError:
                pass  # not joinable after all: each alone
        chunks.extend([i] for i in chunk)
        jobs.extend(items[i] for i in chunk)
    try:
        converted = pool.convert(jobs)
    except PdfConversionError:
        if len(jobs) == len(items):
            raise
        # one by one: the error then names the document that fails, not a joined chunk
        chunks, converted = [[i] for i in range(len(items))], pool.convert(items)
    results: list[bytes | None] = [None] * len(items)
    retry: list[int] = []
    for chunk, pdf in zip(chunks, converted):
        parts = [pdf] if len(chunk) == 1 else split_pdf(pdf, len(chunk))
        if parts is None:
            retry.extend(chunk)
            continue
        for i, part in zip(chunk, parts):
            results[i] = part
    if retry:  # a document LibreOffice did not mark where it begins: each alone
        for i, pdf in zip(retry, pool.convert([items[i] for i in retry])):
            results[i] = pdf
    if merged is not None:
        pieces = []
        for chunk, pdf in zip(chunks, converted):  # a conversion's PDF whole, unless it was redone
            pieces.extend([results[i] for i in chunk] if chunk[0] in retry else [pdf])
        merge_pdfs(pieces, merged)
    return results  # type: ignore[return-value]


def plan_chunks(items: list[tuple[str, bytes]], chunk_pages: int, workers: int = 1) -> list[list[int]]:
    """Indices of ``items`` per conversion: short neighbours (up to :data:`JOIN_MAX_PAGES` pages) made
    from the same template joined up to about ``chunk_pages`` pages (fewer when that leaves an instance
    of the pool idle); order kept."""
    est = [estimated_pages(doc) for _, doc in items]
    limit = max(1, min(chunk_pages, math.ceil(sum(est) / max(1, workers))))
    chunks: list[list[int]] = []
    key = pages = None
    for i, (_, doc) in enumerate(items):
        k = join_key(doc) if est[i] <= JOIN_MAX_PAGES else None
        if chunks and k is not None and k == key and pages + est[i] <= limit:
            chunks[-1].append(i)
            pages += est[i]
        else:
            chunks.append([i])
            key, pages = k, est[i]
    return chunks


def estimated_pages(docx: bytes) -> int:
    """Pages a document will take, guessed from its page and section breaks (for sizing conversions)."""
    try:
        src = _Source(docx)
        xml = src.read(src.main_part())
    except (DocgenError, KeyError, ValueError):
        return 1
    return max(1, xml.count(b'w:type="page"') + xml.count(b"<w:sectPr"))


def join_key(docx: bytes) -> str | None:
    """Documents with the same key may be converted joined: they differ only in their body text and the
    pictures of their body (same styles, numbering, headers, footers, settings: the same template).
    None: not a readable .docx (converted alone, where LibreOffice says what is wrong)."""
    try:
        src = _Source(docx)
        main = src.main_part()
        rels = safexml.parse(src.read(_rels_name(main)))
    except Exception:  # noqa: BLE001 - any unreadable package is converted alone
        return None
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        h = hashlib.sha1()
        body_only: set[str] = set()
        for rel in sorted(rels, key=lambda r: r.get("Id", "")):
            rtype, target = rel.get("Type", ""), rel.get("Target", "")
            if rel.get("TargetMode") == "External" or rtype.endswith(("/hyperlink", "/image")):
                if rtype.endswith("/image"):
                    body_only.add(posixpath.normpath(posixpath.join(posixpath.dirname(main), target)))
                continue  # the joiner copies these per document
            h.update(f"{rel.get('Id')}|{rtype}|{target}\n".encode())
        infos = sorted(zf.infolist(), key=lambda i: i.filename)
        shared = set()
        for info in infos:  # a picture a header uses too is part of the template
            if info.filename.endswith(".rels") and info.filename != _rels_name(main):
                for rel in safexml.parse(zf.read(info.filename)):
                    base = posixpath.dirname(posixpath.dirname(info.filename))
                    shared.add(posixpath.normpath(posixpath.join(base, rel.get("Target", ""))))
        for info in infos:
            name = info.filename
            if name in (main, _rels_name(main), "[Content_Types].xml") or name.startswith("docProps/") \
                    or (name in body_only and name not in shared):
                continue
            h.update(f"{name}|{info.CRC}|{info.file_size}\n".encode())
        return h.hexdigest()


def join_documents(docs: list[bytes]) -> bytes:
    """One .docx of ``docs`` (same template), each keeping its sections, each marked where it begins."""
    out = io.BytesIO()
    writer = CombinedDocxWriter(out, sections=True)
    for n, doc in enumerate(docs):
        writer.add(doc, bookmark=MARK.format(n))
    writer.close()
    return out.getvalue()


def split_pdf(pdf: bytes, count: int) -> list[bytes] | None:
    """The PDF of ``count`` joined documents, one PDF each (pages from one mark to the next); None when a
    mark is missing or out of order."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw
    doc = pdfium.PdfDocument(pdf)
    try:
        starts = []
        for n in range(count):
            dest = raw.FPDF_GetNamedDestByName(doc.raw, MARK.format(n).encode("ascii"))
            starts.append(raw.FPDFDest_GetDestPageIndex(doc.raw, dest) if dest else -1)
        total = len(doc)
        if starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:])) or starts[-1] >= total:
            return None
        parts = []
        for a, b in zip(starts, starts[1:] + [total]):
            part = pdfium.PdfDocument.new()
            try:
                part.import_pages(doc, list(range(a, b)))
                buf = io.BytesIO()
                part.save(buf)
                parts.append(buf.getvalue())
            finally:
                part.close()
        return parts
    finally:
        doc.close()


def page_count(pdf: bytes) -> int:
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def merge_pdfs(pdfs, out) -> int:
    """Write the PDFs (bytes or paths, in order) as one PDF to ``out`` (a path or binary file); return its pages."""
    import pypdfium2 as pdfium
    merged = pdfium.PdfDocument.new()
    opened = []
    try:
        for src in pdfs:
            doc = pdfium.PdfDocument(src if isinstance(src, (bytes, bytearray)) else str(src))
            opened.append(doc)
            merged.import_pages(doc)
        if isinstance(out, (str, Path)):
            with open(out, "wb") as fh:
                merged.save(fh)
        else:
            merged.save(out)
        return len(merged)
    finally:
        for doc in opened:
            doc.close()
        merged.close()


def pdf_page_png(pdf: bytes, page: int = 0, dpi: int = 110) -> bytes:
    """One page of a PDF as a PNG picture (previews of rendered documents)."""
    import io

    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[page].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
