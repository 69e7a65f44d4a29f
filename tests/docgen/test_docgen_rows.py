"""A 'rows' field (the member list of the cover letter): each cell cleaned, a table repeated per row."""
from __future__ import annotations

import unicodedata

import pytest

from docgen import find_template, render_document, samples
from docgen.context import prepare_context
from docgen.definitions import load_definition
from docgen.errors import InvalidFieldError, MissingFieldError
from tests.docgen.helpers_docgen import all_text

COVER = find_template("cover_letter")


def test_rows_are_cleaned_and_each_becomes_a_table_row():
    data = samples.cover_letter(n_members=3)
    data["members"][0]["full_name"] = unicodedata.normalize("NFD", "Nguyễn Thị Ánh\x07")
    ctx, _ = prepare_context(load_definition(COVER.definition_path), data)
    assert ctx["members"][0]["full_name"] == "Nguyễn Thị Ánh"  # NFC, no control character
    text = all_text(render_document(COVER.template_path, data))
    assert "Nguyễn Thị Ánh" in text and "Đặng Quốc Khánh" not in text  # three rows, not six
    assert text.count("2025-0100") == 3


def test_rows_must_be_a_list_of_rows_and_not_empty():
    definition = load_definition(COVER.definition_path)
    with pytest.raises(InvalidFieldError) as exc:
        prepare_context(definition, samples.cover_letter(members="Nguyễn Văn Ánh"))
    assert "Danh sách đảng viên" in exc.value.message_vi
    with pytest.raises(MissingFieldError):
        prepare_context(definition, samples.cover_letter(members=[]))
