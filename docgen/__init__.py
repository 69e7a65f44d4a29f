"""Document generation for noicutru: plain dicts in, .docx / .pdf bytes out.

Knows nothing of Flask or the database.  See the module docstrings:
definitions (form definitions), context (data -> template context),
render (single and bulk rendering), combine (one print job), marks (QR and
corner marks), pdf (LibreOffice), validate (uploaded templates).
"""
from .errors import (DefinitionError, DocgenError, InvalidFieldError,
                     MissingFieldError, PdfConversionError, SofficeNotFoundError,
                     TemplateRenderError)
from .definitions import (DEFAULT_TEMPLATES_DIR, TemplateInfo, definition_for_template,
                          find_template, list_templates, load_definition, validate_definition)
from .context import format_date, format_date_long, prepare_context
from .filenames import ascii_fold, safe_filename
from .render import BulkRenderer, CompiledTemplate, RenderedDocx, render_document, render_docxtpl
from .combine import CombinedDocxWriter, combine_documents
from . import samples

__all__ = [
    "DocgenError", "DefinitionError", "MissingFieldError", "InvalidFieldError",
    "PdfConversionError", "SofficeNotFoundError", "TemplateRenderError",
    "DEFAULT_TEMPLATES_DIR", "TemplateInfo", "definition_for_template", "find_template",
    "list_templates", "load_definition", "validate_definition",
    "format_date", "format_date_long", "prepare_context", "ascii_fold", "safe_filename",
    "BulkRenderer", "CompiledTemplate", "RenderedDocx", "render_document", "render_docxtpl",
    "CombinedDocxWriter", "combine_documents",
]
