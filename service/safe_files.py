"""Uploaded Office files are parsed safely: the container check with this installation's limits,
and the start-up check that openpyxl parses through defusedxml."""
from __future__ import annotations

from docgen.container import DEFAULT_LIMITS, MB, ContainerError, ContainerLimits, check_container
from flask import current_app, has_app_context

from .errors import ServiceError


def require_defusedxml() -> None:
    """Refuse to start when openpyxl would parse workbooks with the standard library's XML parser.

    openpyxl decides at import time (defusedxml importable and OPENPYXL_DEFUSEDXML not "False").
    """
    import openpyxl.xml
    if not openpyxl.xml.DEFUSEDXML:
        raise RuntimeError("openpyxl does not use defusedxml (not installed, or OPENPYXL_DEFUSEDXML=False): "
                           "uploaded workbooks could exhaust memory with nested XML entities; refusing to start")


def limits() -> ContainerLimits:
    """The container limits from the configuration (NOICUTRU_ZIP_* settings); defaults outside an app."""
    if not has_app_context():
        return DEFAULT_LIMITS
    cfg = current_app.config
    return ContainerLimits(
        max_members=int(cfg["ZIP_MAX_MEMBERS"]),
        max_member=int(cfg["ZIP_MAX_MEMBER_MB"] * MB),
        max_total=int(cfg["ZIP_MAX_TOTAL_MB"] * MB),
        max_ratio=int(cfg["ZIP_MAX_RATIO"]),
    )


def check_upload(data: bytes, *, label: str) -> None:
    """Check an uploaded .xlsx/.docx container before it is parsed; ServiceError with the check's code."""
    try:
        check_container(data, label=label, limits=limits())
    except ContainerError as exc:
        raise ServiceError(exc.code, exc.message_vi, exc.details()) from None


def unreadable_workbook_errors() -> tuple[type[BaseException], ...]:
    """What openpyxl raises for a damaged or hostile part met while reading a workbook lazily."""
    import xml.etree.ElementTree as ET
    import zipfile
    import zlib

    from defusedxml import DefusedXmlException
    return (DefusedXmlException, ET.ParseError, zipfile.BadZipFile, zlib.error, EOFError)
