"""Mail-merge benchmark: N evaluation sheets into a ZIP and into one .docx.

    python bench/mailmerge.py [--n 10000] [--naive-n 300] [--out DIR] [--skip-combined]
                              [--pdf-n 96] [--pdf-cell 4] [--pdf-chunk P] [--pdf-workers N]
                              [--pdf-skip-unjoined] [--skip-pdf]

Measures in the same run:
* the project's path (docgen.BulkRenderer: template compiled once, zip members
  re-used, QR swapped per sheet), streaming into a ZIP (one .docx per sheet);
* the same records streamed into ONE combined .docx (page breaks between);
* the naive loop (new DocxTemplate + render + replace QR + save per record, also
  written into a ZIP) on min(n, --naive-n) records, extrapolated per sheet.
Both paths include building the context (dates, signed QR payload, QR PNG).
A sample of records is checked: word/document.xml must be identical.

PDF (LibreOffice), on --pdf-n sheets, instances started before the clock runs (a service keeps
them running), in the same run:
* baseline: ONE LibreOffice converting the sheets as separate documents (one batch call);
* per cell (unless --pdf-skip-unjoined): each cell packet its own conversion on the pool;
* project path: docgen.pdf.convert_to_pdf as the packet job calls it: the per-cell packets (request
  letter + --pdf-cell sheets) joined into conversions of about --pdf-chunk pages on a pool of
  LibreOffice instances (one per core unless --pdf-workers), split back per cell (each cell's page
  count is checked), and the print-everything PDF.
Pages are counted in the PDFs produced. The machine is shared: each figure comes with the load
average and a CPU-time figure (pages per CPU-second of the LibreOffice processes plus this
process), which holds under load; "with N idle cores" multiplies it out (an estimate, not a measure).
The last line is JSON: sheets_per_s, naive_sheets_per_s, ratio, peak_rss_mb, pdf_pages_per_min,
pdf_baseline_pages_per_min, pdf_ratio, pdf_pages_per_cpu_s, pdf_baseline_pages_per_cpu_s, pdf_load, ...
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docgen import BulkRenderer, definition_for_template, prepare_context, render_docxtpl, samples  # noqa: E402
from docgen.render import default_zip_name  # noqa: E402

TEMPLATE = ROOT / "templates" / "evaluation_sheet.v1.docx"
KEY = b"bench-secret-key-0123456789abcdef"


def records(n: int):
    for i in range(n):
        yield samples.evaluation_sheet(i, variant="exempt" if i % 10 == 9 else "standard")


def peak_rss_mb() -> float:
    """Peak memory of the whole run: this process plus its rendering workers (each counted at the
    largest worker's peak, so an upper bound: forked workers share the template's pages)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return own + child * (os.cpu_count() or 1)


class SofficeClock:
    """Wall time, machine load and CPU time of the LibreOffice processes (and of this process, which joins,
    splits and merges PDFs) over a measurement. CPU: the pool's running instances from /proc/<pid>/stat
    (every process of their groups), the short-lived --convert-to clients once reaped (RUSAGE_CHILDREN)."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, converters):
        self.groups = {c._proc.pid for c in converters if c._proc is not None}

    def _instances(self) -> float:
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.getpgid(int(pid)) not in self.groups:
                    continue
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / self.TICK

    @staticmethod
    def _rusage(who) -> float:
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def __enter__(self):
        self.load0 = os.getloadavg()[0]
        self.c0 = (self._instances(), self._rusage(resource.RUSAGE_CHILDREN), self._rusage(resource.RUSAGE_SELF))
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.wall = time.perf_counter() - self.t0
        inst, clients, own = (self._instances() - self.c0[0], self._rusage(resource.RUSAGE_CHILDREN) - self.c0[1],
                              self._rusage(resource.RUSAGE_SELF) - self.c0[2])
        self.soffice_cpu, self.own_cpu = inst + clients, own
        self.load = max(self.load0, os.getloadavg()[0])

    def figures(self, pages: int) -> tuple[float, float]:
        """(pages per minute of wall time, pages per CPU-second of LibreOffice and this process)"""
        return pages / self.wall * 60, pages / max(1e-9, self.soffice_cpu + self.own_cpu)

    def line(self, pages: int) -> str:
        ppm, per_cpu = self.figures(pages)
        return (f"{self.wall:.1f} s = {ppm:.0f} pages/min; CPU {self.soffice_cpu:.1f} s LibreOffice + "
                f"{self.own_cpu:.1f} s here = {per_cpu:.1f} pages/CPU-s; load {self.load:.1f} on {os.cpu_count()} cores")


def bench_pdf(br, n: int, per_cell: int, workers, chunk_pages, out: Path, unjoined: bool) -> dict:
    """Pages per minute and per CPU-second: one LibreOffice on single sheets (baseline) vs the product path
    (docgen.pdf.convert_to_pdf: cell packets joined into chunks on a pool, split per cell, one print PDF)."""
    from docgen import find_template, render_document
    from docgen.combine import combine_documents, with_cover
    from docgen.pdf import CHUNK_PAGES, JOIN_MAX_PAGES, PdfConverter, PdfConverterPool, convert_to_pdf, page_count
    sheets = [br.render(rec) for rec in records(n)]
    cover_tpl = find_template("cover_letter").template_path
    packets, expected = [], []
    for k in range(0, n, per_cell):
        chunk = list(records(n))[k:k + per_cell]
        cover = render_document(cover_tpl, samples.cover_letter(
            n_members=len(chunk), residence_cell_name=f"Chi bộ Tổ dân phố số {k // per_cell + 1}"))
        packets.append((f"cell-{k // per_cell + 1}.docx", with_cover(cover, combine_documents(sheets[k:k + per_cell]))))
        expected.append(1 + len(chunk))  # the letter (one page for up to ~20 members), then one page per sheet
    result = {}

    with PdfConverter() as one:
        with SofficeClock([one]) as clock:
            base_pdfs = one.convert([(f"sheet-{i}.docx", d) for i, d in enumerate(sheets)])
    base_pages = sum(page_count(p) for p in base_pdfs)
    base_ppm, base_cpu = clock.figures(base_pages)
    print(f"pdf baseline : {base_pages} pages, one LibreOffice, sheets one by one: {clock.line(base_pages)}")
    result.update(pdf_baseline_pages_per_min=round(base_ppm, 1), pdf_baseline_pages_per_cpu_s=round(base_cpu, 2),
                  pdf_baseline_load=round(clock.load, 1))

    with PdfConverterPool(workers) as pool:
        if unjoined:  # each packet its own conversion (the path before chunks), same pool
            with SofficeClock(pool.converters) as clock:
                pages = sum(page_count(p) for p in pool.convert(packets))
            ppm, per_cpu = clock.figures(pages)
            print(f"pdf per cell : {pages} pages, each packet converted alone on {pool.size} LibreOffice: "
                  f"{clock.line(pages)}")
            result.update(pdf_unjoined_pages_per_min=round(ppm, 1), pdf_unjoined_pages_per_cpu_s=round(per_cpu, 2))
        with SofficeClock(pool.converters) as clock:
            pdfs = convert_to_pdf(packets, pool=pool, merged=out / "in-tat-ca.pdf", chunk_pages=chunk_pages)
        got = [page_count(p) for p in pdfs]
        pages = page_count((out / "in-tat-ca.pdf").read_bytes())
    if got != expected or pages != sum(expected):
        print(f"PDF pages per cell {got} (total {pages}), expected {expected}", file=sys.stderr)
        raise SystemExit(1)
    ppm, per_cpu = clock.figures(pages)
    cores = min(pool.size, os.cpu_count() or 1)
    print(f"pdf packets  : {pages} pages ({len(packets)} cell packets of letter + {per_cell} sheets through "
          f"convert_to_pdf: packets of <= {JOIN_MAX_PAGES} pages joined by {chunk_pages or CHUNK_PAGES} pages, "
          f"split per cell, merged), {pool.size} LibreOffice: {clock.line(pages)}; {ppm / base_ppm:.2f}x the baseline")
    print(f"pdf by CPU   : {per_cpu:.1f} pages/CPU-s vs {base_cpu:.1f} baseline ({per_cpu / base_cpu:.2f}x); "
          f"with {cores} idle cores that is {per_cpu * 60 * cores:.0f} pages/min")
    result.update(pdf_pages_per_min=round(ppm, 1), pdf_ratio=round(ppm / base_ppm, 2), pdf_pages=pages,
                  pdf_workers=pool.size, pdf_cells=len(packets), pdf_pages_per_cpu_s=round(per_cpu, 2),
                  pdf_cpu_ratio=round(per_cpu / base_cpu, 2),
                  pdf_pages_per_min_idle_estimate=round(per_cpu * 60 * cores, 1), pdf_load=round(clock.load, 1))
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="number of sheets (default 10000)")
    ap.add_argument("--naive-n", type=int, default=300, help="records for the naive loop (default 300)")
    ap.add_argument("--out", default=None, help="output directory (default: a temp dir, removed)")
    ap.add_argument("--skip-combined", action="store_true", help="do not build the combined .docx")
    ap.add_argument("--verify", type=int, default=20, help="records compared with the naive output")
    ap.add_argument("--pdf-n", type=int, default=96, help="sheets converted to PDF (default 96)")
    ap.add_argument("--pdf-cell", type=int, default=4,
                    help="sheets per residence-cell packet (default 4: a workplace's members live in many cells)")
    ap.add_argument("--pdf-chunk", type=int, default=None, help="pages per joined conversion (default: the product's)")
    ap.add_argument("--pdf-skip-unjoined", action="store_true", help="do not measure packets converted one by one")
    ap.add_argument("--pdf-workers", type=int, default=None, help="LibreOffice instances (default: one per core)")
    ap.add_argument("--skip-pdf", action="store_true", help="do not measure the PDF conversion")
    args = ap.parse_args(argv)
    n = args.n
    naive_n = max(1, min(n, args.naive_n))
    tmp = None
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="nct-bench-")
        out = Path(tmp.name)
    definition = definition_for_template(TEMPLATE)

    # -- project path: ZIP ------------------------------------------------
    t0 = time.perf_counter()
    br = BulkRenderer(TEMPLATE, mark_key=KEY)
    compile_s = time.perf_counter() - t0
    zip_path = out / "phieu-nhan-xet.zip"
    t0 = time.perf_counter()
    with open(zip_path, "wb") as fh:
        count = br.write_zip(records(n), fh)
    zip_s = time.perf_counter() - t0
    sheets_per_s = count / zip_s
    print(f"project path : {count} sheets -> ZIP in {zip_s:.2f} s = {sheets_per_s:.0f} sheets/s "
          f"(template compiled once in {compile_s * 1000:.0f} ms); {zip_path.stat().st_size / 1e6:.1f} MB")

    # -- project path: one combined .docx -----------------------------------
    combined_per_s = None
    if not args.skip_combined:
        comb_path = out / "phieu-nhan-xet-gop.docx"
        t0 = time.perf_counter()
        with open(comb_path, "wb") as fh:
            c = br.write_combined(records(n), fh)
        comb_s = time.perf_counter() - t0
        combined_per_s = c / comb_s
        print(f"combined     : {c} sheets -> one .docx in {comb_s:.2f} s = {combined_per_s:.0f} sheets/s; "
              f"{comb_path.stat().st_size / 1e6:.1f} MB, {c - 1} page breaks")

    # -- naive loop (sample, extrapolated) ----------------------------------
    naive_zip = out / "naive.zip"
    t0 = time.perf_counter()
    with zipfile.ZipFile(naive_zip, "w", zipfile.ZIP_STORED) as zf:
        for i, rec in enumerate(records(naive_n)):
            ctx, images = prepare_context(definition, rec, mark_key=KEY)
            zf.writestr(default_zip_name(ctx, i), render_docxtpl(TEMPLATE, ctx, images))
    naive_s = time.perf_counter() - t0
    naive_per_s = naive_n / naive_s
    print(f"naive loop   : {naive_n} sheets (sample of {n}) in {naive_s:.2f} s = {naive_per_s:.1f} sheets/s "
          f"-> {n / naive_per_s:.0f} s extrapolated for {n}")

    # -- verify identical content on a sample --------------------------------
    checked = 0
    with zipfile.ZipFile(zip_path) as zfast, zipfile.ZipFile(naive_zip) as znaive:
        fast_names, naive_names = zfast.namelist(), znaive.namelist()
        for i in range(min(args.verify, naive_n)):
            a = zipfile.ZipFile(io.BytesIO(zfast.read(fast_names[i]))).read("word/document.xml")
            b = zipfile.ZipFile(io.BytesIO(znaive.read(naive_names[i]))).read("word/document.xml")
            if a != b:
                print(f"MISMATCH in record {i}: {fast_names[i]}", file=sys.stderr)
                return 1
            checked += 1
    print(f"verified     : word/document.xml identical for {checked} sampled records")

    pdf = None if args.skip_pdf else bench_pdf(br, args.pdf_n, args.pdf_cell, args.pdf_workers, args.pdf_chunk, out,
                                            not args.pdf_skip_unjoined)

    ratio = sheets_per_s / naive_per_s
    rss = peak_rss_mb()
    print(f"ratio        : {ratio:.1f}x faster than the naive loop; peak RSS {rss:.0f} MB")
    result = {"sheets_per_s": round(sheets_per_s, 1), "naive_sheets_per_s": round(naive_per_s, 2),
              "ratio": round(ratio, 2), "peak_rss_mb": round(rss, 1), "n": n, "naive_n": naive_n,
              "combined_sheets_per_s": round(combined_per_s, 1) if combined_per_s else None,
              "cpu_count": os.cpu_count(), **(pdf or {})}
    if tmp:
        tmp.cleanup()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
