"""The registry's tables. Names follow ../shared/domain/glossary.md."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import (
    text, JSON, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, Index,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base
from .text import search_key, vi_sort_string


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# --- enumerations kept as strings, with the Vietnamese a user reads -----------------

ORG_KINDS = {
    "party_body": "Đảng bộ",
    "workplace_committee": "Đảng ủy cơ sở nơi công tác",
    "workplace_cell": "Chi bộ nơi công tác",
    "ward_committee": "Đảng ủy xã, phường, đặc khu",
    "residence_cell": "Chi bộ nơi cư trú",
}

MEMBER_STATUSES = {
    "active": "Đang sinh hoạt nơi cư trú",
    "exempt_meetings": "Giới thiệu nhưng miễn sinh hoạt nơi cư trú",
    "exempt_introduction": "Miễn giới thiệu về nơi cư trú",
    "transferred": "Đã chuyển sinh hoạt",
    "left": "Đã ra khỏi Đảng",
}

GENDERS = {"male": "Nam", "female": "Nữ"}

ROLES = {
    "admin": "Quản trị viên",
    "workplace_staff": "Cán bộ đảng ủy nơi công tác",
    "cell_secretary": "Bí thư chi bộ nơi cư trú",
}

ATTENDANCE = {
    "present": "Có mặt",
    "excused": "Vắng (báo có đơn xin vắng)",  # older marks; excused only by a certified request
    "absent": "Vắng",
}



class TitledState(StrEnum):
    """A state stored as its string value (no migration), with the Vietnamese a user reads.

    ``title`` is the label on its own ("Chờ duyệt"); ``word`` the same inside a sentence ("chờ duyệt").
    """

    def __new__(cls, value: str, title: str, word: Optional[str] = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._title = title
        member._word = word or title[:1].lower() + title[1:]
        return member

    @property
    def title(self) -> str:  # type: ignore[override]  (str.title: not used on states)
        return self._title

    @property
    def word(self) -> str:
        return self._word

    @classmethod
    def title_of(cls, value: Optional[str]) -> str:
        """The title of a stored value; an unknown value is shown as stored."""
        try:
            return cls(value).title
        except ValueError:
            return value or ""

    @classmethod
    def word_of(cls, value: Optional[str]) -> str:
        try:
            return cls(value).word
        except ValueError:
            return value or ""


class JobState(TitledState):
    QUEUED = "queued", "Đang chờ"
    RUNNING = "running", "Đang chạy"
    FINISHING = "finishing", "Đang tổng hợp kết quả"
    DONE = "done", "Hoàn thành"
    FAILED = "failed", "Lỗi"
    CANCELLED = "cancelled", "Đã hủy"

AUDIT_SOURCES = {"ui": "Giao diện web", "api": "API", "import": "Nhập Excel", "scan": "Bản quét", "cli": "Dòng lệnh",
                 "job": "Công việc nền", "digital": "Trả lời trực tuyến"}


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("parent_id", "search_name", name="uq_org_name_in_parent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    search_name: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    place: Mapped[Optional[str]] = mapped_column(String(120))  # địa danh printed on documents
    secretary_name: Mapped[Optional[str]] = mapped_column(String(200))  # signs documents (bí thư)
    # what the documents print (letter side of #12, migration 0012): the direct superior body's name in the
    # letterhead ("Đảng bộ tỉnh Quảng Ninh"; default: the parent's name) and the suffix of document numbers
    # ("ĐU" in "Số 01-GGT/ĐU"; default: ĐU for a đảng ủy, CB for a chi bộ cơ sở)
    upper_body_name: Mapped[Optional[str]] = mapped_column(String(255))
    document_code: Mapped[Optional[str]] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[Optional["Organisation"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Organisation"]] = relationship(back_populates="parent")

    def set_name(self, name: str) -> None:
        self.name = name
        self.search_name = search_key(name)

    @property
    def kind_label(self) -> str:
        return ORG_KINDS.get(self.kind, self.kind)


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    # Vietnamese order (given name, then family name; text.vi_sort_string): lists sort on it in SQL
    sort_name: Mapped[Optional[str]] = mapped_column(String(255), index=True)
    date_of_birth: Mapped[Optional[dt.date]] = mapped_column(Date)
    gender: Mapped[Optional[str]] = mapped_column(String(10))
    card_number: Mapped[Optional[str]] = mapped_column(String(32), unique=True)
    admission_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    full_member_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    workplace_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"), index=True)
    employer: Mapped[Optional[str]] = mapped_column(String(255))  # cơ quan, đơn vị công tác (not a party body)
    party_position: Mapped[Optional[str]] = mapped_column(String(200))
    government_position: Mapped[Optional[str]] = mapped_column(String(200))
    mass_org_position: Mapped[Optional[str]] = mapped_column(String(200))
    house: Mapped[Optional[str]] = mapped_column(String(200))  # số nhà, đường
    residential_group: Mapped[Optional[str]] = mapped_column(String(120))  # tổ
    neighbourhood: Mapped[Optional[str]] = mapped_column(String(120))  # thôn, khu phố, tổ dân phố
    commune: Mapped[Optional[str]] = mapped_column(String(120))  # xã, phường, đặc khu
    province: Mapped[Optional[str]] = mapped_column(String(120))
    residence_cell_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"), index=True)
    phone: Mapped[Optional[str]] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(32), default="active", index=True)
    notes: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    workplace_org: Mapped[Optional[Organisation]] = relationship(foreign_keys=[workplace_org_id])
    residence_cell: Mapped[Optional[Organisation]] = relationship(foreign_keys=[residence_cell_id])

    AUDITED = (
        "full_name", "date_of_birth", "gender", "card_number", "admission_date", "full_member_date",
        "workplace_org_id", "employer", "party_position", "government_position", "mass_org_position", "house",
        "residential_group", "neighbourhood", "commune", "province", "residence_cell_id", "phone",
        "status", "notes",
    )

    def set_name(self, name: str) -> None:
        self.full_name = name
        self.search_name = search_key(name)
        self.sort_name = vi_sort_string(name)

    def snapshot(self) -> dict[str, Any]:
        out = {}
        for f in self.AUDITED:
            v = getattr(self, f)
            out[f] = v.isoformat() if isinstance(v, dt.date) else v
        return out

    @property
    def residence_address(self) -> str:
        parts = [self.house, self.residential_group, self.neighbourhood, self.commune, self.province]
        out: list[str] = []
        for p in parts:  # a full address typed in one cell may already name the ward or the province
            if p and search_key(p) not in search_key(", ".join(out)):
                out.append(p)
        return ", ".join(out)

    @property
    def status_label(self) -> str:
        return MEMBER_STATUSES.get(self.status, self.status)

    @property
    def gender_label(self) -> str:
        return GENDERS.get(self.gender or "", "")


class Introduction(Base):
    __tablename__ = "introductions"
    __table_args__ = (UniqueConstraint("issuing_org_id", "year", "number", name="uq_intro_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    issuing_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    ward_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    residence_cell_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    received_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    template_version: Mapped[Optional[int]] = mapped_column(Integer)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    member: Mapped[Member] = relationship()
    issuing_org: Mapped[Organisation] = relationship(foreign_keys=[issuing_org_id])


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    residence_cell_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[Optional[str]] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    residence_cell: Mapped[Organisation] = relationship()
    attendances: Mapped[list["Attendance"]] = relationship(back_populates="meeting", cascade="all, delete-orphan")


class Attendance(Base):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", name="uq_attendance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[Optional[str]] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    member: Mapped[Member] = relationship()

    @property
    def status_label(self) -> str:
        return ATTENDANCE.get(self.status, self.status)


class Evaluation(Base):
    """A member's evaluation sheet for one year (one live sheet per member and year)."""
    __tablename__ = "evaluations"
    __table_args__ = (
        Index("ix_evaluation_member_year", "member_id", "year"),
        # One live sheet per member and year, even under concurrent requests.
        Index("uq_live_sheet", "member_id", "year", unique=True,
              sqlite_where=text("status != 'voided'"), postgresql_where=text("status != 'voided'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    sheet_serial: Mapped[Optional[str]] = mapped_column(String(40), unique=True)
    variant: Mapped[str] = mapped_column(String(16), default="standard")
    template_version: Mapped[Optional[int]] = mapped_column(Integer)
    #: content hash of the form definition the sheet was printed from (forms.definition.content_hash)
    definition_hash: Mapped[Optional[str]] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued, returned, voided
    answers: Mapped[Optional[dict]] = mapped_column(JSON)  # item key -> option key
    other_remarks: Mapped[Optional[str]] = mapped_column(Text)
    rating: Mapped[Optional[str]] = mapped_column(String(32))
    returned_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    replaces_id: Mapped[Optional[int]] = mapped_column(ForeignKey("evaluations.id"))
    voided_reason: Mapped[Optional[str]] = mapped_column(String(500))
    voided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    source_file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    source_page_id: Mapped[Optional[int]] = mapped_column(ForeignKey("scan_pages.id", use_alter=True,
                                                                     name="fk_evaluations_source_page"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: item 7 written by hand on a scanned sheet: its crop, and whether a person typed it yet
    remarks_file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id",
                                                                      name="fk_evaluations_remarks_file"))
    remarks_status: Mapped[Optional[str]] = mapped_column(String(16), index=True)  # pending, transcribed
    remarks_transcribed_by: Mapped[Optional[int]] = mapped_column(
        ForeignKey("users.id", name="fk_evaluations_remarks_transcribed_by"))
    remarks_transcribed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    member: Mapped[Member] = relationship()

    @property
    def remarks_pending(self) -> bool:
        """Item 7 has handwriting on the scanned sheet that nobody has typed yet."""
        return self.remarks_status == "pending"

    def snapshot(self) -> dict[str, Any]:
        return {"answers": self.answers, "other_remarks": self.other_remarks, "status": self.status,
                "returned_on": self.returned_on.isoformat() if self.returned_on else None,
                "source_page_id": self.source_page_id, "remarks_file_id": self.remarks_file_id,
                "remarks_status": self.remarks_status}


class DocumentTemplate(Base):
    """A version of a form's Word template: the built-in one from templates/ or an administrator's upload."""
    __tablename__ = "document_templates"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_template_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    builtin_path: Mapped[Optional[str]] = mapped_column(String(255))  # file name under templates/
    file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    definition: Mapped[dict] = mapped_column(JSON)
    #: content hash of ``definition``; a released version never changes (forms.definition.content_hash)
    definition_hash: Mapped[Optional[str]] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DocumentCounter(Base):
    """The last number given per issuing organisation, document kind and year (no gap, no duplicate)."""
    __tablename__ = "document_counters"
    __table_args__ = (UniqueConstraint("organisation_id", "kind", "year", name="uq_counter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer, default=0)


class FormLayout(Base):
    """Where the tick boxes and areas of a template version are, for reading scans (built once, kept)."""
    __tablename__ = "form_layouts"
    __table_args__ = (UniqueConstraint("kind", "version", "variant", name="uq_form_layout"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str] = mapped_column(String(40))
    layout: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ScanBatch(Base):
    """A stack of returned paper uploaded in one go (one job, per-page items)."""
    __tablename__ = "scan_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    job_id: Mapped[Optional[int]] = mapped_column(ForeignKey("jobs.id"))
    auto_apply: Mapped[bool] = mapped_column(Boolean, default=True)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[Optional[dict]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    files: Mapped[list["ScanFile"]] = relationship(back_populates="batch", order_by="ScanFile.id")


class ScanFile(Base):
    __tablename__ = "scan_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batches.id", ondelete="CASCADE"), index=True)
    stored_file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    name: Mapped[str] = mapped_column(String(255))
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[Optional[dict]] = mapped_column(JSON)  # the whole file was refused: code and message

    batch: Mapped[ScanBatch] = relationship(back_populates="files")
    stored_file: Mapped[Optional["StoredFile"]] = relationship()


class ImportBatchStatus(TitledState):
    NEEDS_MAPPING = "needs_mapping", "Chờ ghép cột"
    PREVIEWED = "previewed", "Chờ xác nhận"
    REJECTED = "rejected", "Bị từ chối"
    QUEUED = "queued", "Đang nhập", "đang chạy"
    APPLIED = "applied", "Đã nhập", "đã hoàn tất"
    FAILED = "failed", "Lỗi", "bị lỗi"
    UNDONE = "undone", "Đã hoàn tác", "đã được hoàn tác"


class EvaluationStatus(TitledState):
    ISSUED = "issued", "Đã phát hành"
    RETURNED = "returned", "Đã nhận lại"
    VOIDED = "voided", "Đã hủy"


class ScanPageStatus(TitledState):
    REVIEW = "review", "Chờ duyệt"
    CONFLICT = "conflict", "Mâu thuẫn, chờ duyệt", "mâu thuẫn"
    APPLIED = "applied", "Đã cập nhật"
    REJECTED = "rejected", "Đã loại"
    DUPLICATE = "duplicate", "Trùng, không cập nhật", "trùng"
    SKIPPED = "skipped", "Bỏ qua (trang trắng)", "trang trắng"
    ERROR = "error", "Lỗi"


class ScanPage(Base):
    """One scanned page: what was read, and what a person or the machine decided."""
    __tablename__ = "scan_pages"
    __table_args__ = (UniqueConstraint("scan_file_id", "page_no", name="uq_scan_page"),
                      Index("ix_scan_pages_status", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batches.id", ondelete="CASCADE"), index=True)
    scan_file_id: Mapped[int] = mapped_column(ForeignKey("scan_files.id", ondelete="CASCADE"))
    page_no: Mapped[int] = mapped_column(Integer)  # from 1
    source_key: Mapped[str] = mapped_column(String(80), index=True)  # file hash + page: the same page uploaded again
    image_sha: Mapped[Optional[str]] = mapped_column(String(64))  # the normalised page image in storage
    kind: Mapped[str] = mapped_column(String(32))
    reading: Mapped[dict] = mapped_column(JSON)
    crops: Mapped[Optional[dict]] = mapped_column(JSON)  # name -> sha of PNG in storage
    sheet_serial: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    member_id: Mapped[Optional[int]] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    year: Mapped[Optional[int]] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    problems: Mapped[Optional[list]] = mapped_column(JSON)
    applied_values: Mapped[Optional[dict]] = mapped_column(JSON)
    before_values: Mapped[Optional[dict]] = mapped_column(JSON)  # the evaluation before applying, for undo
    evaluation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("evaluations.id", use_alter=True,
                                                                    name="fk_scan_pages_evaluation"))
    introduction_id: Mapped[Optional[int]] = mapped_column(ForeignKey("introductions.id"))
    decided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    scan_file: Mapped[ScanFile] = relationship()
    member: Mapped[Optional[Member]] = relationship()
    decider: Mapped[Optional["User"]] = relationship()

    @property
    def status_label(self) -> str:
        return ScanPageStatus.title_of(self.status)


class StoredFile(Base):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[Optional[str]] = mapped_column(String(120))
    uploaded_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[Optional[str]] = mapped_column(String(500))
    result: Mapped[Optional[dict]] = mapped_column(JSON)
    result_file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    error: Mapped[Optional[dict]] = mapped_column(JSON)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[Optional[str]] = mapped_column(String(120))
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    creator: Mapped[Optional["User"]] = relationship()

    @property
    def state_label(self) -> str:
        return JobState.title_of(self.state)

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class JobItem(Base):
    """One piece of a large job (a member's sheet, a scanned page) that any worker may take."""
    __tablename__ = "job_items"
    __table_args__ = (UniqueConstraint("job_id", "seq", name="uq_job_item_seq"),
                      Index("ix_job_items_job_state", "job_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(255), default="")  # what a person calls it: a name, "tệp X, trang 3"
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[Optional[dict]] = mapped_column(JSON)
    error: Mapped[Optional[dict]] = mapped_column(JSON)
    worker: Mapped[Optional[str]] = mapped_column(String(120))
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class ImportBatch(Base):
    """An uploaded member workbook with its preview, waiting for confirmation."""
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="previewed")  # previewed, rejected, queued, applied, failed
    preview: Mapped[dict] = mapped_column(JSON)
    job_id: Mapped[Optional[int]] = mapped_column(ForeignKey("jobs.id"))
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # what the job wrote, for undo: {"members_created": [ids], "members_updated": [ids],
    # "audit_entries": {member id: entry id}, "organisations_created": [ids]}
    applied: Mapped[Optional[dict]] = mapped_column(JSON)


class ImportMapping(Base):
    """A confirmed column mapping, proposed again for the next list with the same headers."""
    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("organisation_key", "signature", name="uq_import_mapping"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the organisation of the user who confirmed it ("org:<id>"), or "all" for users without one
    organisation_key: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(40))  # fingerprint of the headers
    mapping: Mapped[dict] = mapped_column(JSON)  # header key -> field ("" skipped)
    updated_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # stored in each session at sign-in; raising it ends every session of the user (see auth.end_sessions)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    organisation: Mapped[Optional[Organisation]] = relationship()

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # updated at most once a minute
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    def state(self, now: dt.datetime) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


class SignInThrottle(Base):
    """Failed sign-in counters (per account+address, per address, per account), one row per key and window."""
    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """One change to any record: who (user, or the job and the user who asked for it), when, what
    (entity kind and id), before and after. Append-only: triggers refuse UPDATE and DELETE, and each
    entry carries the hash of its content and of the previous entry (see service/audit.py)."""
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)  # given by audit.record under the chain lock
    entity_kind: Mapped[str] = mapped_column(String(32), index=True)  # member, organisation, user, ...
    entity_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    # The member the change concerns (member history); no foreign key: the history outlives the member.
    member_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(40))  # create, update, delete, evaluation, void, ...
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    job_id: Mapped[Optional[int]] = mapped_column(Integer)  # the job that made the change for user_id
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[Optional[str]] = mapped_column(String(255))
    before: Mapped[Optional[dict]] = mapped_column(JSON)
    after: Mapped[Optional[dict]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    user: Mapped[Optional[User]] = relationship()

    @property
    def source_label(self) -> str:
        return AUDIT_SOURCES.get(self.source, self.source)

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class QrSigningKey(Base):
    """A key that signs (the newest non-legacy one) or still verifies the QR codes of printed sheets.

    Shared by every machine of the installation through the database; ``kid`` is printed in each
    payload, ``secret`` never leaves the server (see service/qrkeys.py).
    """
    __tablename__ = "qr_signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # no longer signs nor verifies


# --- digital answers (the residence cell fills the sheet online) ---
class AnswerCode(Base):
    """A one-time code that lets a residence cell secretary answer one printed sheet online.

    Issued by someone who may write the member's return (the workplace committee), sent with the
    packet or by message; only its hash is kept.  Used once (``used_at``), expires, can be revoked.
    """
    __tablename__ = "answer_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the normalised code (upper case, no separators)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the answer given with the code (a page of source "digital")
    page_id: Mapped[Optional[int]] = mapped_column(ForeignKey("scan_pages.id", ondelete="SET NULL"))

    evaluation: Mapped[Evaluation] = relationship()
    issuer: Mapped[User] = relationship()


# --- absence requests ---

class AbsenceRequest(Base):
    """A member's written request (đơn xin vắng) not to attend one residence meeting, with its reason.

    Only a request certified by the member's workplace committee (who, when) makes the absence
    excused; an absence without one counts for the year-end absence rule (meetings.logic).
    """
    __tablename__ = "absence_requests"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", name="uq_absence_request"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    written_on: Mapped[Optional[dt.date]] = mapped_column(Date)  # the date on the request
    recorded_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    certified_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    certified_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    meeting: Mapped[Meeting] = relationship()
    member: Mapped[Member] = relationship()
    certifier: Mapped[Optional[User]] = relationship(foreign_keys=[certified_by])

    @property
    def certified(self) -> bool:
        return self.certified_at is not None

    def snapshot(self) -> dict[str, Any]:
        return {"meeting_id": self.meeting_id, "member_id": self.member_id, "reason": self.reason,
                "written_on": self.written_on.isoformat() if self.written_on else None,
                "certified_by": self.certified_by,
                "certified_at": self.certified_at.isoformat() if self.certified_at else None}


# --- year-end campaign ---

class Campaign(Base):
    """A workplace committee's year-end round of evaluation sheets: generated, sent, returned, applied."""
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("workplace_org_id", "year", name="uq_campaign_org_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workplace_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[dt.date] = mapped_column(Date)  # the return deadline printed and chased
    include_exempt: Mapped[bool] = mapped_column(Boolean, default=False)  # HD 33: exempt members left out by default
    job_id: Mapped[Optional[int]] = mapped_column(ForeignKey("jobs.id"))  # the bulk generation
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    workplace_org: Mapped[Organisation] = relationship()
    sheets: Mapped[list["CampaignSheet"]] = relationship(back_populates="campaign", cascade="all, delete-orphan")


class CampaignSheet(Base):
    """One member's sheet in a campaign, with the steps the evaluation itself does not record.

    Generated: the evaluation's ``created_at``; returned by scan: its ``returned_on`` and source page;
    applied: answers present and no remark pending.  Kept here: sent (printed and posted or handed
    over), and a return recorded by hand (paper received, typed in) or digitally."""
    __tablename__ = "campaign_sheets"
    __table_args__ = (UniqueConstraint("campaign_id", "member_id", name="uq_campaign_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    sent_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    received_on: Mapped[Optional[dt.date]] = mapped_column(Date)  # paper received by hand (not yet typed in)
    received_via: Mapped[Optional[str]] = mapped_column(String(16))  # scan, digital, hand

    campaign: Mapped[Campaign] = relationship(back_populates="sheets")
    member: Mapped[Member] = relationship()


class CampaignReminder(Base):
    """A reminder letter sent to a late residence cell, numbered like the committee's other letters."""
    __tablename__ = "campaign_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    residence_cell_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    number: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    missing: Mapped[list] = mapped_column(JSON)  # the sheet serials it lists
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CellContact(Base):
    """Who to call about a residence cell's returns: the secretary's name and phone."""
    __tablename__ = "cell_contacts"

    residence_cell_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                   primary_key=True)
    name: Mapped[Optional[str]] = mapped_column(String(200))
    phone: Mapped[Optional[str]] = mapped_column(String(40))
    updated_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


# --- packets (cover letters of the per-cell packets) ---

class CoverLetter(Base):
    """The numbered request letter (mẫu 3-213, part A) a workplace committee sends one residence cell for a year.

    One per committee, cell and year: printing the packet again reprints the same number and date.
    """
    __tablename__ = "cover_letters"
    __table_args__ = (UniqueConstraint("issuing_org_id", "year", "number", name="uq_cover_letter_number"),
                      UniqueConstraint("issuing_org_id", "residence_cell_id", "year", name="uq_cover_letter_cell"))

    id: Mapped[int] = mapped_column(primary_key=True)
    issuing_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    residence_cell_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    return_deadline: Mapped[Optional[dt.date]] = mapped_column(Date)
    evaluation_ids: Mapped[Optional[list]] = mapped_column(JSON)  # the sheets listed in the last print
    template_version: Mapped[Optional[int]] = mapped_column(Integer)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    issuing_org: Mapped[Organisation] = relationship(foreign_keys=[issuing_org_id])
    residence_cell: Mapped[Organisation] = relationship(foreign_keys=[residence_cell_id])
