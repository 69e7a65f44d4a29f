"""The mailable packet per residence cell: the committee's request letter (mẫu 3-213, part A), then the
cell's evaluation sheets; one .docx and one PDF per cell, all in a ZIP, plus one PDF to print them all.

A job (``document_packets``) whose items are residence cells: each item makes sure every member of
the cell has the year's sheet, numbers the cell's letter once (a reprint keeps number and date),
and joins letter and sheets into one .docx. ``finish`` converts every cell's document at once
(``docgen.pdf.convert_to_pdf``: a pool of LibreOffice instances, neighbouring packets joined into
conversions of about 24 pages and split back per cell) and joins them into one PDF for printing.

Members exempt from residence meetings (HD 33, 1.1) get no yearly comment: the yearly run leaves
them out and lists them apart (:func:`members_for_year_run`, shared with the year-end campaign).
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any, Optional

import docgen
from docgen.combine import CombinedDocxWriter, with_cover
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db, storage
from ..errors import ServiceError
from ..jobs.items import ItemRejected, failures, item_job
from ..jobs.record import JobFailed
from ..models import CoverLetter, Evaluation, Member, Organisation, User, utcnow
from ..permissions import require_write, subtree_ids
from .contexts import _place, _upper_body, residence_of
from .numbering import next_number
from .render import render_record
from .sheets import ensure_sheet, live_sheet
from .templates_store import active_template, form_definition, renderer, template_version

JOB_KIND = "document_packets"
KIND = "cover_letter"
LETTER_CODE = "CV/ĐU"
DEFAULT_RETURN_DAYS = 30
ZIP_MIME = "application/zip"
EXEMPT_STATUS = "exempt_meetings"
CODES_FIELD = "with_answer_codes"  # a cover letter version that has it prints one-time answer codes


@dataclass
class YearRun:
    """Who a workplace committee sends the year's sheets for, in packet order (cell, then name)."""
    committee: Organisation
    year: int
    members: list[Member] = field(default_factory=list)  # get a sheet
    exempt: list[Member] = field(default_factory=list)  # miễn sinh hoạt nơi cư trú: left out, listed apart

    def cells(self) -> list[tuple[Optional[Organisation], list[Member]]]:
        """The members grouped by residence cell (None: no cell yet), in packet order."""
        groups: dict[Optional[int], list[Member]] = {}
        for m in self.members:
            groups.setdefault(m.residence_cell_id, []).append(m)
        return [(g[0].residence_cell, g) for g in groups.values()]


def _packet_order(m: Member) -> tuple:
    cell = m.residence_cell
    return (cell is None, cell.search_name if cell else "", m.search_name, m.id)


def workplace_committee(sess: Session, committee_id: int) -> Organisation:
    org = sess.get(Organisation, committee_id)
    if org is None or org.kind != "workplace_committee":
        raise ServiceError("not_workplace_committee", "Cần chọn một đảng ủy nơi công tác (đảng ủy cơ sở).",
                           {"committee_id": committee_id})
    return org


def members_for_year_run(session: Session, committee_id: int, year: int) -> YearRun:
    """The committee's members who get the year's evaluation sheet, and those exempt (HD 33) apart.

    Members of the committee and of every organisation below it, still in the party and introduced
    (status ``active``); status ``exempt_meetings`` is listed apart: no periodic yearly comment is
    collected for them. Members transferred, gone or exempt from introduction are not in the run.
    """
    committee = workplace_committee(session, committee_id)
    rows = session.scalars(select(Member).where(
        Member.workplace_org_id.in_(subtree_ids(session, committee.id)),
        Member.status.in_(("active", EXEMPT_STATUS)))).all()
    run = YearRun(committee, int(year))
    for m in sorted(rows, key=_packet_order):
        (run.exempt if m.status == EXEMPT_STATUS else run.members).append(m)
    return run


def cell_committee_name(cell_name: str) -> str:
    """'Chi bộ Tổ dân phố số 12' -> 'Chi ủy Tổ dân phố số 12' (the committee the letter addresses)."""
    for prefix in ("Chi bộ", "Chi Bộ", "CHI BỘ"):
        if cell_name.startswith(prefix):
            return "Chi ủy" + cell_name[len(prefix):]
    return f"Chi ủy {cell_name}"


def _date(value: Any, what: str, field_name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ServiceError("invalid_date", f"{what} không hợp lệ: {value} (cần ngày dạng dd/mm/yyyy).",
                           {"field": field_name})


def _sheets_by_id(sess: Session, committee: Organisation, year: int, sheet_ids: list[int]) -> list[Evaluation]:
    """The sheets asked for: each live, of ``year``, for a member of the committee; else say which is not."""
    ids = list(dict.fromkeys(int(i) for i in sheet_ids))
    found = {e.id: e for e in sess.scalars(select(Evaluation).where(Evaluation.id.in_(ids)))}
    scope = set(subtree_ids(sess, committee.id))
    wrong = []
    for i in ids:
        e = found.get(i)
        if e is None:
            wrong.append(f"phiếu mã {i} không có")
        elif e.status == "voided":
            wrong.append(f"phiếu số {e.sheet_serial} đã bị hủy")
        elif e.year != year:
            wrong.append(f"phiếu số {e.sheet_serial} là phiếu năm {e.year}")
        elif e.member.workplace_org_id not in scope:
            wrong.append(f"phiếu số {e.sheet_serial} không thuộc {committee.name}")
    if wrong:
        raise ServiceError("invalid_sheets", "Không lập được bộ phiếu: " + "; ".join(wrong) + ".",
                           {"sheet_ids": ids})
    return [found[i] for i in ids]


def start(sess: Session, user: User, committee_id: int, year: int, *, return_deadline: Any = None,
          sheet_ids: Optional[list[int]] = None, include_exempt: bool = False, issued_on: Any = None,
          answer_codes: bool = False):
    """Check a packet request and enqueue its job. Nothing is written if anything is wrong.

    ``answer_codes``: each cell's request letter also prints a new one-time answer code per sheet not yet
    returned (the old unused codes of those sheets are revoked)."""
    from ..jobs.record import enqueue, notify
    committee = workplace_committee(sess, committee_id)
    require_write(sess, user, committee, "documents",
                  message=f"Chỉ {committee.name} (hoặc quản trị viên) được gửi bộ phiếu của đảng ủy này.")
    year = int(year)
    if not (2000 <= year <= 2100):
        raise ServiceError("invalid_year", f"Năm không hợp lệ: {year}.", {"field": "year"})
    issued_on = _date(issued_on, "Ngày gửi", "issued_on") if issued_on else dt.date.today()
    deadline = (_date(return_deadline, "Hạn gửi lại phiếu", "return_deadline") if return_deadline
                else issued_on + dt.timedelta(days=DEFAULT_RETURN_DAYS))
    if deadline <= issued_on:
        raise ServiceError("deadline_not_after_issue",
                           f"Hạn gửi lại phiếu ({deadline:%d/%m/%Y}) phải sau ngày gửi ({issued_on:%d/%m/%Y}).",
                           {"field": "return_deadline"})
    exempt: list[Member] = []
    if sheet_ids:
        sheets = _sheets_by_id(sess, committee, year, sheet_ids)
        members = sorted((e.member for e in sheets), key=_packet_order)
        chosen = {e.member_id: e.id for e in sheets}
    else:
        run = members_for_year_run(sess, committee.id, year)
        members, exempt = (run.members + run.exempt, []) if include_exempt else (run.members, run.exempt)
        members.sort(key=_packet_order)
        chosen = {}
    if not members:
        raise ServiceError("no_members", f"{committee.name} không có đảng viên nào cần gửi phiếu năm {year}.",
                           {"committee_id": committee.id, "year": year})
    cells: dict[Optional[int], list[int]] = {}
    for m in members:
        cells.setdefault(m.residence_cell_id, []).append(m.id)
    params = {"committee_id": committee.id, "year": year, "issued_on": issued_on.isoformat(),
              "return_deadline": deadline.isoformat(), "user_id": user.id,
              "cells": [{"cell_id": c, "member_ids": ids, "sheet_ids": [chosen[i] for i in ids if i in chosen]}
                        for c, ids in cells.items()],
              "exempt": [{"name": m.full_name, "cell": m.residence_cell.name if m.residence_cell else ""}
                         for m in exempt]}
    if answer_codes:
        params.update(answer_codes=True, answer_link=answer_link())
    job = enqueue(sess, JOB_KIND, params, user_id=user.id, total=len(cells))
    sess.commit()
    notify()
    return job


def _prints_codes(sess: Session, version: Optional[int]) -> bool:
    return any(f.name == CODES_FIELD for f in form_definition(template_version(sess, KIND, version or 1)).fields)


def _letter(sess: Session, user: Optional[User], committee: Organisation, cell: Organisation, year: int,
            issued_on: dt.date, deadline: dt.date, sheet_ids: list[int], with_codes: bool = False) -> CoverLetter:
    """The cell's letter for the year: the one already numbered, or the next number of the committee.
    A reprint keeps number and date; with codes, it moves to the active version if its own cannot print them."""
    letter = sess.scalar(select(CoverLetter).where(CoverLetter.issuing_org_id == committee.id,
                                                   CoverLetter.residence_cell_id == cell.id,
                                                   CoverLetter.year == year))
    if letter is not None and with_codes and not _prints_codes(sess, letter.template_version):
        letter.template_version = active_template(sess, KIND).version
    if letter is None:
        version = active_template(sess, KIND).version  # before the counter row is locked
        letter = CoverLetter(issuing_org_id=committee.id, residence_cell_id=cell.id, year=year,
                             number=next_number(sess, committee.id, KIND, year), issued_on=issued_on,
                             template_version=version, created_by=user.id if user else None)
        sess.add(letter)
    letter.return_deadline, letter.evaluation_ids = deadline, sheet_ids
    sess.flush()
    return letter


def answer_link() -> str:
    """The page where a cell answers with a code, as printed in the letter: ``NOICUTRU_BASE_URL`` (the
    address people reach the service at) + ``/tra-loi/``, else the address of the current request."""
    from flask import current_app, has_request_context, url_for
    base = current_app.config.get("BASE_URL") or os.environ.get("NOICUTRU_BASE_URL")
    if base:
        return str(base).rstrip("/") + "/tra-loi/"
    return url_for("digital.enter", _external=True) if has_request_context() else "/tra-loi/"


def issue_answer_codes(sess: Session, user: Optional[User], sheets: list[Evaluation]) -> dict[int, str]:
    """A new one-time code for each sheet not yet returned (the old unused ones revoked), to print in the
    letter: {sheet id: code as printed}. Not committed: the caller commits them with the letter."""
    from ..digital import codes
    if user is None:
        raise ServiceError("answer_codes_need_user", "Mã trả lời trực tuyến chỉ được cấp bởi một người dùng cụ thể.")
    return {ev.id: codes.display(codes.issue(sess, user, ev, commit=False, source="job"))
            for ev in sheets if ev.status == "issued"}


def cover_letter_data(letter: CoverLetter, committee: Organisation, ward: Organisation, cell: Organisation,
                      sheets: list[Evaluation], answer_codes: Optional[dict[int, str]] = None,
                      link: str = "") -> dict:
    """The plain data the cover letter template renders (keys as in cover_letter.v2.form.json); with
    ``answer_codes`` ({sheet id: code}), each row also gets its code ("Đã nhận phiếu" for a sheet already back)."""
    first = sheets[0].member
    codes = answer_codes  # None: the letter prints no codes
    data = {
        "upper_body_name": _upper_body(committee, first),
        "upper_body_heading": balanced_heading(_upper_body(committee, first)),
        "issuing_committee_name": committee.name,
        "issuing_committee_heading": balanced_heading(committee.name),
        "letter_number": f"{letter.number:02d}",
        "letter_code": LETTER_CODE,
        "place": _place(committee.place, first.province),
        "issue_date": letter.issued_on,
        "year": letter.year,
        "ward_committee_name": ward.name,
        "residence_cell_name": cell.name,
        "residence_cell_committee_name": cell_committee_name(cell.name),
        "members": [{"full_name": e.member.full_name,
                     "birth_year": str(e.member.date_of_birth.year) if e.member.date_of_birth else "",
                     "sheet_serial": e.sheet_serial or "",
                     **({"answer_code": codes.get(e.id, "Đã nhận phiếu")} if codes is not None else {})}
                    for e in sheets],
        "member_count": len(sheets),
        "return_deadline": letter.return_deadline,
        "signer_name": committee.secretary_name or "",
    }
    if codes is not None:
        from ..digital.codes import VALID_DAYS
        data.update(with_answer_codes=True, answer_link=link,
                    answer_codes_until=utcnow().date() + dt.timedelta(days=VALID_DAYS))
    return data


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, ServiceError) else getattr(exc, "message_vi", str(exc))


@item_job(JOB_KIND, "Bộ phiếu gửi chi bộ nơi cư trú")
class DocumentPackets:
    """Items are residence cells; ``finish`` converts every packet to PDF at once and packs the ZIP."""

    @staticmethod
    def plan(ctx, params: dict) -> list[dict]:
        with db.new_session() as sess:
            names = dict(sess.execute(select(Organisation.id, Organisation.name).where(
                Organisation.id.in_([c["cell_id"] for c in params["cells"] if c["cell_id"]]))).all())
        return [{"label": names.get(c["cell_id"], "Chưa có chi bộ nơi cư trú"), **c} for c in params["cells"]]

    @staticmethod
    def run_item(ctx, params: dict, item: dict) -> dict:
        year = params["year"]
        with db.new_session() as sess:
            members = sorted((m for m in sess.scalars(select(Member).where(Member.id.in_(item["member_ids"])))),
                             key=_packet_order)
            if item["cell_id"] is None:
                raise ItemRejected("Chưa có chi bộ nơi cư trú nên không gửi được phiếu: "
                                   + ", ".join(m.full_name for m in members) + ".")
            committee = sess.get(Organisation, params["committee_id"])
            cell = sess.get(Organisation, item["cell_id"])
            user = sess.get(User, params["user_id"]) if params.get("user_id") else None
            wanted = set(item.get("sheet_ids") or ())
            sheets, problems = [], []
            for m in members:
                try:
                    if user is not None:  # the one write check, as the user who started the job
                        require_write(sess, user, m, message=f"{m.full_name}: ngoài phạm vi quyền của bạn.")
                    if m.residence_cell_id != cell.id:
                        raise ServiceError("moved", f"{m.full_name} đã chuyển sang chi bộ nơi cư trú khác.")
                    if wanted:
                        ev = live_sheet(sess, m.id, year)
                        if ev is None or ev.id not in wanted:
                            raise ServiceError("sheet_changed", f"{m.full_name}: phiếu đã chọn không còn hiệu lực.")
                    else:  # idempotent: a re-run finds the same sheet
                        ev = ensure_sheet(sess, m, year, commit=False, user=user, job_id=ctx.job_id, source="job")
                    sheets.append(ev)
                except (ServiceError, docgen.DocgenError) as exc:
                    msg = _message(exc)
                    problems.append(msg if m.full_name in msg else f"{m.full_name}: {msg}")
            sess.commit()  # the sheets first: rendering may need short transactions of its own (QR key)
            rendered = []
            for ev in sheets:  # a sheet that cannot be made is named; the cell's packet goes on without it
                try:
                    rendered.append((ev, render_record(sess, ev)))
                except (ServiceError, docgen.DocgenError) as exc:
                    msg = _message(exc)
                    problems.append(msg if ev.member.full_name in msg else f"{ev.member.full_name}: {msg}")
            sheets = [ev for ev, _ in rendered]
            if not sheets:
                raise ItemRejected(f"{cell.name}: " + "; ".join(problems))
            try:
                ward, _ = residence_of(sheets[0].member)
                with_codes = bool(params.get("answer_codes"))
                letter = _letter(sess, user, committee, cell, year, dt.date.fromisoformat(params["issued_on"]),
                                 dt.date.fromisoformat(params["return_deadline"]), [e.id for e in sheets], with_codes)
                codes = issue_answer_codes(sess, user, sheets) if with_codes else None
                sess.commit()  # the letter's number, with the sheets it lists (and their new codes)
                data = cover_letter_data(letter, committee, ward, cell, sheets, codes, params.get("answer_link", ""))
                cover = renderer(sess, template_version(sess, KIND, letter.template_version or 1)).render(data)
                with tempfile.SpooledTemporaryFile(max_size=64 << 20) as fh:
                    writer = CombinedDocxWriter(fh)
                    for _, docx in rendered:
                        writer.add(docx)
                    writer.close()
                    fh.seek(0)
                    packet = with_cover(cover, fh.read())
            except (ServiceError, docgen.DocgenError) as exc:
                sess.rollback()
                raise ItemRejected(f"{cell.name}: {_message(exc)}")
            return {"sha": storage.put_bytes(packet), "cell_id": cell.id, "cell": cell.name, "ward": ward.name,
                    "sheets": len(sheets), "letter": f"{letter.number:02d}-{LETTER_CODE}", "problems": problems}

    @staticmethod
    def finish(ctx, params: dict, items: list) -> dict:
        year = params["year"]
        done = sorted((i for i in items if i.state == "done"), key=lambda i: (i.result["ward"], i.result["cell"]))
        failed = failures(items)
        problems = [f["message"] for f in failed] + [p for i in done for p in i.result.get("problems", [])]
        if not done:
            raise JobFailed("nothing_rendered", "Không lập được bộ phiếu nào.", {"failures": failed})
        ctx.set_total(len(items), f"Đang chuyển {len(done)} bộ phiếu sang PDF…")
        from docgen.pdf import convert_to_pdf, page_count
        names = [_packet_name(i.result, year) for i in done]
        docs = [(f"{n}.docx", storage.read_sha(i.result["sha"])) for n, i in zip(names, done)]
        with tempfile.TemporaryDirectory(prefix="noicutru-packets-") as workdir:
            result_path = os.path.join(workdir, "result.zip")
            all_path = os.path.join(workdir, "all.pdf")
            try:
                pdfs = convert_to_pdf(docs, merged=all_path)
            except docgen.PdfConversionError as exc:
                raise JobFailed("pdf_failed", exc.message_vi)
            cell_pages = [page_count(p) for p in pdfs]
            pages = sum(cell_pages)
            with zipfile.ZipFile(result_path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as result:
                for name, (_, docx), pdf in zip(names, docs, pdfs):
                    result.writestr(f"theo-chi-bo/{name}.docx", docx)
                    result.writestr(f"theo-chi-bo/{name}.pdf", pdf)
                result.write(all_path, f"in-tat-ca-phieu-nhan-xet-{year}.pdf")
                if params.get("exempt"):
                    result.writestr("dang-vien-mien-sinh-hoat-noi-cu-tru.txt", _exempt_text(params, year))
                if problems:
                    result.writestr("khong-tao-duoc.txt", "\n".join(problems) + "\n")
            with db.new_session() as sess:
                committee = sess.get(Organisation, params["committee_id"])
                file_id = storage.save_path(sess, result_path,
                                            docgen.safe_filename(f"Bộ phiếu nhận xét {year} {committee.name}", "zip"),
                                            ZIP_MIME, params.get("user_id")).id
        sheets = sum(i.result["sheets"] for i in done)
        exempt = params.get("exempt") or []
        summary = (f"Đã lập {len(done)} bộ phiếu gửi chi bộ nơi cư trú ({sheets} phiếu nhận xét, {pages} trang PDF).")
        if params.get("answer_codes"):
            summary += (" Phiếu xin ý kiến in kèm mã trả lời trực tuyến của từng phiếu chưa trả lời; "
                        "các mã cấp trước đó cho các phiếu này đã bị thu hồi.")
        if exempt:
            summary += (f" Không gửi phiếu cho {len(exempt)} đảng viên được miễn sinh hoạt nơi cư trú: "
                        + ", ".join(e["name"] for e in exempt) + ".")
        return {"summary": summary, "problems": problems[:500], "file_id": file_id, "year": year,
                "cells": len(done), "sheets": sheets, "pages": pages,
                "cell_pages": {str(i.result["cell_id"]): n for i, n in zip(done, cell_pages)},
                "exempt": exempt, "failed": len(failed)}


def _packet_name(result: dict, year: int) -> str:
    return docgen.safe_filename(f"{result['ward']} - {result['cell']} - phiếu nhận xét {year}")


def _exempt_text(params: dict, year: int) -> str:
    lines = [f"Đảng viên được miễn sinh hoạt nơi cư trú (Hướng dẫn 33-HD/BTCTW, mục 1.1): "
             f"không lấy ý kiến nhận xét định kỳ năm {year}.", ""]
    lines += [f"{n}. {e['name']}" + (f" ({e['cell']})" if e["cell"] else "")
              for n, e in enumerate(params["exempt"], 1)]
    return "\n".join(lines) + "\n"


def bundle_cover(sess: Session, params: dict, committee_id: int, cell_id: int, evaluation_ids: list[int]) -> bytes:
    """The numbered request letter opening a bulk run's bundle of sheets for one cell (bulk ``cell_bundles``)."""
    committee, cell = sess.get(Organisation, committee_id), sess.get(Organisation, cell_id)
    by_id = {e.id: e for e in sess.scalars(select(Evaluation).where(Evaluation.id.in_(evaluation_ids)))}
    sheets = [by_id[i] for i in evaluation_ids if i in by_id]
    user = sess.get(User, params["user_id"]) if params.get("user_id") else None
    issued_on = dt.date.fromisoformat(params.get("issued_on") or dt.date.today().isoformat())
    ward, _ = residence_of(sheets[0].member)
    with_codes = bool(params.get("answer_codes"))
    deadline = dt.date.fromisoformat(params["return_deadline"]) if params.get("return_deadline") else \
        issued_on + dt.timedelta(days=DEFAULT_RETURN_DAYS)
    letter = _letter(sess, user, committee, cell, params["year"], issued_on, deadline, [e.id for e in sheets],
                     with_codes)
    codes = issue_answer_codes(sess, user, sheets) if with_codes else None
    data = cover_letter_data(letter, committee, ward, cell, sheets, codes, params.get("answer_link", ""))
    docx = renderer(sess, template_version(sess, KIND, letter.template_version or 1)).render(data)
    sess.commit()
    return docx


HEADING_CHARS = 30  # capitals of the header block that fit on one line of the letter's left column


def balanced_heading(name: str, width: int = HEADING_CHARS) -> str:
    """The name in capitals for the header block; when too long for one line, split into two lines of
    about the same length at a space (never one word alone on the second line)."""
    text = " ".join(name.split()).upper()
    words = text.split(" ")
    if len(text) <= width or len(words) < 3:
        return text
    best = min(range(1, len(words)), key=lambda k: max(len(" ".join(words[:k])), len(" ".join(words[k:]))))
    best = min(best, len(words) - 2)  # keep at least two words on the second line
    return " ".join(words[:best]) + "\n" + " ".join(words[best:])
