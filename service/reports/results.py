"""A returned sheet's answers as a person reads them: the option LABELS of the sheet's own form
definition (its template version and variant), item 7 (or that it waits for transcription), and
where the answers came from (a scan page, a sheet filled on a computer, typed by hand)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from forms.definition import FormDefinition, Variant
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..documents.templates_store import form_definition, template_version
from ..models import AuditEntry, Evaluation, ScanPage, User

SOURCE_LABELS = {"scan": "Bản quét", "digital": "Bản điện tử", "hand": "Nhập tay"}
NOT_ANSWERED = "—"


@dataclass(frozen=True)
class ItemAnswer:
    number: int
    key: str
    label: str  # the item's heading text
    answer: Optional[str]  # the option's label; None when not answered


@dataclass(frozen=True)
class SheetResult:
    evaluation: Evaluation
    version: int
    variant: str
    variant_label: str
    items: tuple[ItemAnswer, ...]  # the choice items, in order
    remarks_number: Optional[int]  # the number of the free-text item (7, or 4 on the exempt variant)
    remarks: str
    remarks_pending: bool
    source: Optional[str]  # scan, digital, hand; None: nothing returned yet
    source_detail: str
    source_page_id: Optional[int]

    @property
    def returned(self) -> bool:
        return bool(self.evaluation.answers)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source or "", "")

    def answer(self, number: int) -> Optional[str]:
        for i in self.items:
            if i.number == number:
                return i.answer
        return None

    @property
    def remarks_text(self) -> str:
        """Item 7 as a report prints it."""
        if self.remarks_pending:
            return "(đang chờ nhập nhận xét viết tay)"
        return self.remarks


def sheet_definition(sess: Session, ev: Evaluation, cache: Optional[dict] = None) -> tuple[FormDefinition, Variant]:
    """The form definition the sheet was printed with, and its variant (``cache``: version -> definition)."""
    version = ev.template_version or 1
    if cache is not None and version in cache:
        definition = cache[version]
    else:
        definition = form_definition(template_version(sess, "evaluation_sheet", version))
        if cache is not None:
            cache[version] = definition
    variant = definition.variant(ev.variant if ev.variant in definition.variant_names else None)
    return definition, variant


def _source(sess: Session, ev: Evaluation) -> tuple[Optional[str], str]:
    if not ev.answers:
        return None, ""
    if ev.source_page_id is not None:
        page = sess.get(ScanPage, ev.source_page_id)
        codes = {p.get("code") for p in ((page.reading or {}).get("problems") or []) + (page.problems or [])
                 if isinstance(p, dict)} if page else set()
        where = f"lô #{page.batch_id}, trang {page.page_no}" if page else ""
        if (page.reading or {}).get("source") == "digital" if page else False:
            return "digital", f"chi bộ trả lời trực tuyến (trang #{page.id})"
        if "text_layer" in codes:
            return "digital", f"PDF điền trên máy tính ({where})"
        return "scan", where
    entry = sess.scalar(select(AuditEntry).where(AuditEntry.entity_kind == "evaluation", AuditEntry.entity_id == ev.id,
                                                 AuditEntry.action.in_(("evaluation", "digital", "answer")))
                        .order_by(AuditEntry.id.desc()).limit(1))
    source = entry.source if entry is not None else ""
    if "digital" in source or "online" in source:
        return "digital", "chi bộ điền trực tuyến"
    who = ""
    if entry is not None and entry.user_id:
        user = sess.get(User, entry.user_id)
        who = f"{user.full_name or user.username}, " if user else ""
    when = f"{entry.at:%d/%m/%Y}" if entry is not None else ""
    return "hand", f"{who}{when}".strip(", ")


def sheet_result(sess: Session, ev: Evaluation, cache: Optional[dict] = None) -> SheetResult:
    definition, variant = sheet_definition(sess, ev, cache)
    answers = ev.answers or {}
    items = []
    remarks_number = None
    for item in variant.items:
        if not item.is_choice:
            remarks_number = remarks_number or item.number
            continue
        chosen = answers.get(item.key)
        label = next((o.label for o in item.options if o.key == chosen), None)
        items.append(ItemAnswer(item.number, item.key, item.label, label))
    source, detail = _source(sess, ev)
    return SheetResult(ev, definition.version, variant.name, variant.label, tuple(items), remarks_number,
                       ev.other_remarks or "", ev.remarks_pending, source, detail, ev.source_page_id)


def member_results(sess: Session, member_id: int) -> list[SheetResult]:
    """Every year's sheet of a member that is not voided (newest year first)."""
    evs = sess.scalars(select(Evaluation).where(Evaluation.member_id == member_id, Evaluation.status != "voided")
                       .order_by(Evaluation.year.desc(), Evaluation.id.desc())).all()
    return [sheet_result(sess, ev) for ev in evs]
