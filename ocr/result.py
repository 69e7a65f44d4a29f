"""Result types of a page reading (plain dataclasses, JSON via ``to_dict``)."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

# Readings at or above this confidence may be applied without review
# (if the QR is valid and nothing else is flagged).
CONFIDENT = 0.8

KINDS = ("evaluation_sheet", "introduction_receipt", "foreign_form", "blank", "unreadable")

PROBLEMS_VI = {
    "qr_missing": "Không đọc được mã QR (bị che, mờ hoặc bị cắt): cần kiểm tra lại người được nhận xét",
    "qr_invalid": "Mã QR không hợp lệ: phiếu bị sửa đổi hoặc không do hệ thống phát hành",
    "qr_unknown_form": "Mã QR hợp lệ nhưng hệ thống chưa có bố cục cho mẫu phiếu này",
    "marks_missing": "Không tìm thấy đủ 4 dấu góc: trang được căn theo mã QR, cần kiểm tra lại",
    "layout_mismatch": "Các ô đánh dấu không khớp với mẫu phiếu: cần kiểm tra lại",
    "item_unsure": "Có nội dung không đọc chắc chắn (nhiều ô, không có ô nào hoặc dấu mờ)",
    "item_cancelled": "Có ô bị gạch xóa, đã lấy ô được đánh dấu còn lại",
    "item_corrected": "Có ô bị gạch xóa và một ô khác được đánh dấu: máy chỉ đề xuất ô còn lại, cần người xác nhận",
    "item_ambiguous": "Có nội dung được đánh dấu nhiều ô: cần người xác định ô được chọn",
    "item_circled": "Có ô được khoanh tròn thay vì đánh dấu bên trong: cần người xác nhận",
    "item_faint": "Có dấu quá mờ (bút chì hoặc bút nhạt): cần người xác nhận",
    "name_mismatch": "Họ tên in trên phiếu không khớp với mã QR",
    "foreign_form": "Phiếu không do hệ thống in (không có mã QR, dấu góc): đọc bằng nhận dạng chữ, cần kiểm tra lại",
    "member_not_found": "Không xác định được đảng viên trên phiếu",
    "blank": "Trang trắng: không có nội dung",
    "unreadable": "Không nhận ra phiếu nhận xét trên trang này (ảnh khác hoặc quá mờ)",
    "not_our_kind": "Mã QR thuộc loại văn bản khác, không phải phiếu nhận xét",
    "signature_missing": "Không thấy chữ ký của chi ủy",
    "stamp_missing": "Không thấy dấu đỏ ở phần xác nhận của đảng ủy",
}


# Problems that forbid applying a page without a person (see ocr/README.md).
BLOCKING = frozenset({"qr_missing", "qr_invalid", "marks_missing", "layout_mismatch", "item_unsure",
                      "item_cancelled", "item_corrected", "item_ambiguous", "item_circled", "item_faint",
                      "foreign_form", "qr_unknown_form", "name_mismatch", "not_our_kind", "ocr_failed",
                      "blank", "unreadable", "member_not_found"})


def problem(code: str, message_vi: str | None = None, **extra) -> dict:
    d = {"code": code, "message_vi": message_vi or PROBLEMS_VI.get(code, code)}
    d.update(extra)
    return d


@dataclass
class FieldReading:
    name: str
    value: Any
    confidence: float
    box: tuple | None  # (x, y, w, h) pixels of the normalised page image
    kind: str  # "tickbox" | "choice" | "text" | "crop" | "presence"
    # tick boxes: empty | ticked | filled | scribbled | circled | faint | unsure (ocr.boxes.BOX_CLASSES);
    # ``value`` keeps the three states of the first versions (ticked | empty | unsure)
    box_class: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "confidence": round(float(self.confidence), 3),
                "box": [int(v) for v in self.box] if self.box is not None else None, "kind": self.kind,
                **({"box_class": self.box_class} if self.box_class else {})}


@dataclass
class PageReading:
    kind: str
    qr: dict | None = None
    qr_valid: bool = False
    qr_text: str | None = None
    problems: list = field(default_factory=list)
    rotation_applied: int = 0  # clockwise degrees the input was turned to be upright
    fields: list = field(default_factory=list)  # [FieldReading]
    answers: dict = field(default_factory=dict)  # item key -> option key | None
    answer_confidence: dict = field(default_factory=dict)  # item key -> 0..1
    item_status: dict = field(default_factory=dict)  # item key -> ok|cancelled|unsure|multiple|none
    crops: dict = field(default_factory=dict)  # name -> PNG bytes
    signature_present: bool = False
    signature_confidence: float = 0.0
    stamp_present: bool = False
    stamp_confidence: float = 0.0
    normalised_image: bytes | None = None  # JPEG (or PNG: read_page's review_format)
    layout_key: tuple | None = None  # (kind, version, variant)
    dpi: int = 150
    timings: dict = field(default_factory=dict)

    # -- convenience ------------------------------------------------------
    @property
    def member_id(self) -> str | None:
        return str(self.qr["member_id"]) if self.qr_valid and self.qr else None

    def field(self, name: str) -> FieldReading | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def problem_codes(self) -> list[str]:
        return [p["code"] for p in self.problems]

    @property
    def auto_applicable(self) -> bool:
        """True when the answers may be applied without a person looking:
        our own sheet, valid QR, every item read with one confident answer,
        and no problem that asks for review."""
        if self.kind != "evaluation_sheet" or not self.qr_valid or not self.answers:
            return False
        if any(s != "ok" for s in self.item_status.values()):
            return False
        if BLOCKING & set(self.problem_codes):
            return False
        return all(v is not None and self.answer_confidence.get(k, 0) >= CONFIDENT
                   for k, v in self.answers.items())

    def to_dict(self, *, include_images: bool = True) -> dict:
        b64 = lambda b: base64.b64encode(b).decode("ascii") if b else None  # noqa: E731
        d = {
            "kind": self.kind, "qr": self.qr, "qr_valid": self.qr_valid, "qr_text": self.qr_text,
            "problems": list(self.problems), "rotation_applied": self.rotation_applied,
            "fields": [f.to_dict() for f in self.fields], "answers": dict(self.answers),
            "answer_confidence": {k: round(float(v), 3) for k, v in self.answer_confidence.items()},
            "item_status": dict(self.item_status),
            "signature_present": bool(self.signature_present),
            "signature_confidence": round(float(self.signature_confidence), 3),
            "stamp_present": bool(self.stamp_present), "stamp_confidence": round(float(self.stamp_confidence), 3),
            "layout_key": list(self.layout_key) if self.layout_key else None, "dpi": self.dpi,
            "member_id": self.member_id, "auto_applicable": self.auto_applicable,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
        if include_images:
            d["crops"] = {k: b64(v) for k, v in self.crops.items()}
            d["normalised_image"] = b64(self.normalised_image)
        else:
            d["crops"] = sorted(self.crops)
        return d
