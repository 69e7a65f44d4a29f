"""docgen.container.check_container on its own: each refusal has its code, the file and the member."""
from __future__ import annotations

import pytest

from tests.support import hostile_files as hf

from docgen.container import ContainerError, ContainerLimits, check_container


def refused(data: bytes, **limits) -> ContainerError:
    with pytest.raises(ContainerError) as caught:
        check_container(data, label="tệp-thử.xlsx", limits=ContainerLimits(**limits) if limits else ContainerLimits())
    assert "«tệp-thử.xlsx»" in caught.value.message_vi
    return caught.value


def test_plain_workbook_passes():
    infos = check_container(hf.plain_xlsx(), label="ds.xlsx")
    assert any(i.filename == hf.SHEET for i in infos)


@pytest.mark.parametrize("case", ["billion_laughs", "xxe_file", "xxe_http", "zip_bomb_ratio", "too_many_members",
                                  "path_traversal", "absolute_path", "duplicate_member", "nested_zip",
                                  "encrypted_member"])
def test_each_hostile_container_has_its_code(case):
    make, code = hf.HOSTILE_WORKBOOKS[case]
    err = refused(make())
    assert err.code == code
    if code != "zip_too_many_members":
        assert err.member and f"«{err.member[:40]}" in err.message_vi


def test_dtd_found_behind_a_long_prolog_and_in_utf16():
    comment = "<!--" + "x" * 200_000 + "-->"
    xml = f'<?xml version="1.0"?>{comment}<!DOCTYPE a [<!ENTITY e "e">]><a>&e;</a>'.encode()
    assert refused(hf.rezip(hf.plain_xlsx(), add=[("xl/extra.xml", xml)])).code == "xml_dtd"
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a SYSTEM "http://127.0.0.1:1/"><a/>'.encode("utf-16")
    assert refused(hf.rezip(hf.plain_xlsx(), add=[("xl/extra.xml", utf16)])).code == "xml_dtd"
    # a part named like anything else (the relationships may point to it) is still XML
    disguised = hf.rezip(hf.plain_xlsx(), add=[("xl/worksheets/sheet9.dat", xml)])
    assert refused(disguised).code == "xml_dtd" and refused(disguised).member == "xl/worksheets/sheet9.dat"


def test_limits_are_parameters():
    data = hf.plain_xlsx()
    assert refused(data, max_members=3).code == "zip_too_many_members"
    assert refused(data, max_member=100).code == "zip_member_too_large"
    assert refused(data, max_total=3000, max_member=10**6).code == "zip_too_large"
    assert refused(data, max_ratio=1, ratio_floor=0).code == "zip_ratio"


def test_not_a_zip():
    assert refused(b"%PDF-1.4 not a zip").code == "zip_invalid"
