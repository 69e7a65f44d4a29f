"""Exceptions of the document generator.

Every exception carries an English message (``str(exc)``) for logs and a
Vietnamese message (``exc.message_vi``) that can be shown to users.
"""
from __future__ import annotations

from forms import definition as _forms


class DocgenError(Exception):
    """Base class."""

    message_vi: str = "Lỗi tạo văn bản"
    code: str = "docgen_error"  # stable, for API answers and logs

    def __init__(self, message: str, message_vi: str | None = None):
        super().__init__(message)
        if message_vi is not None:
            self.message_vi = message_vi


class DefinitionError(DocgenError, _forms.DefinitionError):
    """A form definition file is missing, unreadable or invalid (also a forms.definition.DefinitionError)."""

    message_vi = "Định nghĩa biểu mẫu không hợp lệ"


class MissingFieldError(DocgenError):
    """A required context field is absent or empty."""

    def __init__(self, field: str, label: str | None = None):
        self.field = field
        self.label = label or field
        super().__init__(f"missing required field: {field}",
                         f"Thiếu trường bắt buộc: {self.label[:1].lower() + self.label[1:]}")


class InvalidFieldError(DocgenError):
    """A context field has a value of the wrong type or outside its choices."""

    def __init__(self, field: str, label: str | None, problem: str, problem_vi: str):
        self.field = field
        self.label = label or field
        super().__init__(f"invalid field {field}: {problem}",
                         f"Giá trị không hợp lệ ở trường {self.label}: {problem_vi}")


class TemplateRenderError(DocgenError):
    message_vi = "Không tạo được văn bản từ mẫu"
    code = "template_render"


class TemplateForbiddenError(TemplateRenderError):
    """The template tried something the sandbox refuses (private attribute, unsafe call, ...)."""

    message_vi = "Mẫu chứa lệnh không được phép; mẫu không được dùng"
    code = "template_forbidden"


class TemplateLimitError(TemplateRenderError):
    """The template went over a limit: range, string size, output size, memory or time."""

    message_vi = "Mẫu vượt giới hạn cho phép khi điền dữ liệu; mẫu không được dùng"
    code = "template_limit"


class PdfConversionError(DocgenError):
    message_vi = "Không chuyển được văn bản sang PDF"


class SofficeNotFoundError(PdfConversionError):
    message_vi = "Máy chủ chưa cài LibreOffice (soffice), không chuyển được sang PDF"
