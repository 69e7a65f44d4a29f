"""Organisation names in an import: the one name key, a ward committee's name, and planned organisations.

Apart from ``plan`` so that ``headers`` and ``readiness`` use them without importing the planner.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Union

from ..text import clean, search_key

_ORG_PREFIX = re.compile(r"^(dang uy co so|dang uy|dang bo co so|dang bo|chi bo)\s+")
WARD_UNIT = re.compile(r"^(phuong|xa|dac khu|thi tran)\s+")


@lru_cache(maxsize=65536)
def core_key(name: str) -> str:
    """Organisation name key: "Đảng ủy phường Hồng Hà" and "Phường Hồng Hà" -> "phuong hong ha"."""
    return _ORG_PREFIX.sub("", search_key(name)).strip()


def ward_name(commune: str) -> str:
    """The ward committee's name for a commune as typed: "Phường Hồng Hà" -> "Đảng ủy phường Hồng Hà"."""
    text = clean(commune)
    if _ORG_PREFIX.match(search_key(text)):
        return text
    if WARD_UNIT.match(search_key(text)):
        text = text[:1].lower() + text[1:]
    return f"Đảng ủy {text}"


@dataclass
class NewOrg:
    key: str
    name: str
    kind: str
    parent: "OrgRef"
    place: Optional[str] = None  # địa danh: a ward's from its own name
    parent_name: Optional[str] = None


OrgRef = Union[int, NewOrg, None]  # an existing id, a planned organisation, or nothing
