"""Which member field a column of a list holds: from its header (aliases, then similarity) and its values.

Pure: no database, no Flask. A header is compared after ``header_key`` (no diacritics, lower case,
punctuation -> space). Two-row headers are combined (parent + child): "Ngày sinh" over "Nữ" is the
date of birth of women, "Nơi cư trú" over "Chi bộ" is the residence cell.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from rapidfuzz import fuzz, process

from ..members.fields import COLUMN_LABELS, ValueProblem, parse_card, parse_date, parse_phone
from ..text import search_key
from .orgnames import core_key  # the one organisation-name key

IGNORED = "_ignored"  # an STT (row number) column: known, never imported

# field -> Vietnamese label, as the mapping step and the messages show it (the one member vocabulary)
FIELD_LABELS: dict[str, str] = COLUMN_LABELS
REQUIRED = ("full_name", "card_number")

_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("ho va ten", "ho ten", "ho va ten dang vien", "ho ten dang vien", "ten dang vien",
                  "ho va ten khai sinh", "ho va ten thuong dung", "ho va ten dang vien 213"),
    "card_number": ("so the dang vien", "so the", "so the dv", "so the dang", "the dang vien", "so the dang vien so",
                    "ma the dang vien", "so the d v", "so the dang vien 8 chu so"),
    "date_of_birth": ("ngay sinh", "ngay thang nam sinh", "sinh ngay", "nam sinh", "ngay sinh dang vien"),
    "gender": ("gioi tinh", "nam nu", "gioi", "phai"),
    "admission_date": ("ngay vao dang", "ngay ket nap", "ngay ket nap dang", "ngay ket nap vao dang",
                       "ngay vao dang du bi", "ngay ket nap du bi"),
    "full_member_date": ("ngay chinh thuc", "ngay cong nhan chinh thuc", "ngay dang vien chinh thuc",
                         "ngay chuyen chinh thuc", "ngay vao dang chinh thuc"),
    "workplace_org": ("dang bo chi bo noi cong tac", "chi bo dang bo noi cong tac", "to chuc dang noi cong tac",
                      "dang bo chi bo cong tac", "noi sinh hoat dang", "chi bo dang bo dang sinh hoat"),
    "workplace_committee": ("dang uy noi cong tac", "dang uy co so noi cong tac", "dang bo noi cong tac",
                            "dang uy co so", "dang uy cong tac", "dang bo co so noi cong tac",
                            "cong tac dang uy", "noi cong tac dang uy", "noi cong tac dang bo"),
    "workplace_cell": ("chi bo noi cong tac", "chi bo cong tac", "chi bo dang sinh hoat", "chi bo sinh hoat",
                       "cong tac chi bo", "noi cong tac chi bo"),
    "employer": ("don vi cong tac", "noi cong tac", "co quan cong tac", "co quan don vi cong tac", "co quan",
                 "don vi", "co quan don vi", "noi lam viec", "cong tac tai", "co quan noi cong tac",
                 "noi cong tac co quan", "noi cong tac don vi", "ten co quan don vi"),
    "party_position": ("chuc vu dang",),
    "government_position": ("chuc vu chinh quyen", "chuc vu", "chuc vu cong tac", "chuc vu chuyen mon"),
    "mass_org_position": ("chuc vu doan the",),
    "house": ("so nha", "dia chi", "so nha duong", "so nha duong pho", "dia chi noi cu tru", "noi o hien nay",
              "cho o hien nay", "noi cu tru", "noi o", "dia chi cu tru", "noi cu tru dia chi",
              "noi cu tru so nha", "noi cu tru hien nay", "dia chi thuong tru", "noi thuong tru"),
    "residential_group": ("to", "to so"),
    "neighbourhood": ("khu pho thon to dan pho", "khu pho", "thon", "to dan pho", "thon to dan pho", "khu pho thon",
                      "thon khu pho", "thon ban to dan pho", "thon ban khu pho", "ap khom", "thon xom",
                      "thon ban", "khu pho to dan pho", "thon ban khu pho to dan pho",
                      "noi cu tru thon to dan pho", "noi cu tru khu pho"),
    "commune": ("xa phuong", "phuong xa", "xa", "phuong", "xa phuong dac khu", "xa phuong thi tran",
                "phuong xa thi tran", "dang uy xa phuong noi cu tru", "dang uy noi cu tru", "dang bo noi cu tru",
                "dang uy xa phuong", "dang uy phuong xa noi cu tru", "xa phuong noi cu tru",
                "dang uy xa phuong dac khu noi cu tru", "dang bo xa phuong noi cu tru", "noi cu tru xa phuong",
                "noi cu tru dang uy", "noi cu tru dang uy xa phuong", "noi cu tru phuong xa"),
    "province": ("tinh thanh pho", "tinh", "tinh tp", "tinh thanh", "thanh pho"),
    "residence_cell": ("chi bo noi cu tru", "chi bo cu tru", "chi bo noi cu tru sinh hoat", "chi bo o noi cu tru",
                       "noi cu tru chi bo", "chi bo thon to dan pho", "chi bo khu dan cu"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "dt", "so dt", "dien thoai lien he", "dien thoai di dong",
              "so dien thoai lien he", "di dong"),
    "status": ("tinh trang", "trang thai", "tinh trang sinh hoat", "trang thai sinh hoat",
               "tinh trang sinh hoat noi cu tru"),
    "notes": ("ghi chu",),
    IGNORED: ("stt", "tt", "so tt", "so thu tu"),
}
_EXACT: dict[str, str] = {alias: f for f, aliases in _ALIASES.items() for alias in aliases}
# prefixes ("ngay sinh (dd/mm/yyyy)") only for aliases of two words or more, longest first
_PREFIXES = sorted(((a, f) for a, f in _EXACT.items() if " " in a), key=lambda p: -len(p[0]))
_FUZZY_CHOICES = [a for a in _EXACT if len(a) >= 6]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_GENDER_CHILD = {"nam": "date_of_birth_male", "nu": "date_of_birth_female"}
_GENDER_MARK = {"nam": "gender_male", "nu": "gender_female"}  # "x" under "Giới tính" / "Nam" | "Nữ"


def header_key(value: Any) -> str:
    return _NON_ALNUM.sub(" ", search_key(value)).strip()


def match_header(value: Any) -> Optional[str]:
    """The field a header cell names exactly (or by a known prefix), IGNORED for STT, None if unknown."""
    key = header_key(value)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    for alias, fld in _PREFIXES:
        if key.startswith(alias + " "):
            return fld
    return None


def match_combined(parent: Any, child: Any) -> Optional[str]:
    """The field of a column under a two-row header (parent over child); either may be empty."""
    p, c = header_key(parent), header_key(child)
    if p and c:
        if c in _GENDER_CHILD and match_header(p) == "date_of_birth":
            return _GENDER_CHILD[c]
        if c in _GENDER_MARK and match_header(p) == "gender":
            return _GENDER_MARK[c]
        for text in (f"{c} {p}", f"{p} {c}"):
            fld = match_header(text)
            if fld:
                return fld
    return match_header(c) if c else (match_header(p) if p else None)


def similar_header(value: Any) -> Optional[str]:
    """The field of the nearest known header (a typo, an extra word), or None when nothing is close."""
    key = header_key(value)
    if len(key) < 4:
        return None
    hit = process.extractOne(key, _FUZZY_CHOICES, scorer=fuzz.token_sort_ratio, score_cutoff=86)
    return _EXACT[hit[0]] if hit else None


def _share(values: list[Any], test) -> float:
    ok = 0
    for v in values:
        try:
            if test(v):
                ok += 1
        except ValueProblem:
            pass
    return ok / len(values) if values else 0.0


def _looks_card(v: Any) -> bool:
    if isinstance(v, str) and not re.search(r"\d", v):
        return False
    return parse_card(v) is not None and (not isinstance(v, str) or len(re.sub(r"\D", "", v)) in (7, 8))


def _looks_phone(v: Any) -> bool:
    return parse_phone(v) is not None and len(re.sub(r"\D", "", str(v).split(".")[0])) >= 9


def _looks_date(v: Any) -> bool:
    return parse_date(v) is not None


def suggest_from_values(values: Iterable[Any], org_kinds: Optional[dict[str, str]] = None) -> Optional[str]:
    """A field guessed from a column's values: card numbers, phones, dates, names of known organisations."""
    vals = [v for v in values if v is not None and str(v).strip()]
    if len(vals) < 2:
        return None
    if _share(vals, _looks_card) >= 0.8 and not _share(vals, _looks_phone) >= 0.8:
        return "card_number"
    if _share(vals, _looks_phone) >= 0.8:
        return "phone"
    if _share(vals, _looks_date) >= 0.8:
        return "date_of_birth"
    keys = [search_key(v) for v in vals]
    if org_kinds:
        kinds = [org_kinds.get(core_key(str(v))) for v in vals]
        for kind, fld in (("residence_cell", "residence_cell"), ("ward_committee", "commune"),
                          ("workplace_cell", "workplace_cell"), ("workplace_committee", "workplace_committee")):
            if sum(1 for k in kinds if k == kind) / len(vals) >= 0.6:
                return fld
    if sum(1 for k in keys if re.match(r"^(phuong|xa|dac khu|thi tran|dang uy (phuong|xa))\b", k)) / len(vals) >= 0.8:
        return "commune"
    return None
