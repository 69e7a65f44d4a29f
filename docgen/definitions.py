"""Form definitions as docgen uses them: typed :class:`forms.definition.FormDefinition` objects.

The definition itself (validation, typed items, content hash) lives in the
Flask-free, docgen-free package :mod:`forms`, shared with :mod:`ocr`.  This
module finds the (definition, template) pairs of a templates directory and
knows the names a template may use; its loaders raise docgen's
:class:`~docgen.errors.DefinitionError` (a DocgenError).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from forms import definition as fdef
from forms.definition import DEFINITION_SUFFIX, FormDefinition, definition_path_for

from .errors import DefinitionError

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# Context names every template may use besides the declared fields.
GLOBAL_NAMES = {
    "items", "variant", "variant_label", "form_kind", "form_version", "form_code",
    "form_title", "qr_payload", "correction_hint", "prefilled_remarks",
    "header_lines",
}
# Names that only exist inside the template's own loops.
LOOP_NAMES = {"item", "opt", "loop", "line", "range"}

__all__ = ["DEFAULT_TEMPLATES_DIR", "DEFINITION_SUFFIX", "GLOBAL_NAMES", "LOOP_NAMES", "FormDefinition",
           "TemplateInfo", "as_definition", "definition_for_template", "definition_path_for", "find_template",
           "known_names", "list_templates", "load_definition", "validate_definition"]


@dataclass(frozen=True)
class TemplateInfo:
    kind: str
    version: int
    title: str
    template_path: Path
    definition_path: Path
    definition: FormDefinition


@contextlib.contextmanager
def _docgen_errors() -> Iterator[None]:
    """forms' DefinitionError re-raised as docgen's (a DocgenError, same messages)."""
    try:
        yield
    except fdef.DefinitionError as exc:
        if isinstance(exc, DefinitionError):
            raise
        raise DefinitionError(str(exc), exc.message_vi) from exc


def validate_definition(data: Any, *, source: str = "<definition>") -> FormDefinition:
    """Check a parsed definition; return the typed definition or raise DefinitionError."""
    with _docgen_errors():
        return FormDefinition.from_dict(data, source=source)


def as_definition(definition: FormDefinition | Mapping[str, Any]) -> FormDefinition:
    """A FormDefinition as is; a parsed definition dict validated into one."""
    with _docgen_errors():
        return FormDefinition.coerce(definition)


def load_definition(path: str | Path) -> FormDefinition:
    """Read and validate a ``*.form.json`` file."""
    with _docgen_errors():
        return fdef.load(path)


def definition_for_template(template_path: str | Path) -> FormDefinition | None:
    """The definition stored beside a template, or None if there is none."""
    dp = definition_path_for(template_path)
    return load_definition(dp) if dp.exists() else None


def list_templates(templates_dir: str | Path | None = None) -> list[TemplateInfo]:
    """All (definition, template) pairs in a directory, sorted by kind then version.

    A definition whose template file is missing is skipped.
    """
    d = Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES_DIR
    out = []
    for dp in sorted(d.glob("*" + DEFINITION_SUFFIX)):
        fd = load_definition(dp)
        tp = dp.parent / fd.template
        if tp.exists():
            out.append(TemplateInfo(fd.kind, fd.version, fd.title, tp, dp, fd))
    out.sort(key=lambda t: (t.kind, t.version))
    return out


def find_template(kind: str, version: int | None = None,
                  templates_dir: str | Path | None = None) -> TemplateInfo:
    """The template of a kind: the given version, or the highest one."""
    cands = [t for t in list_templates(templates_dir) if t.kind == kind
             and (version is None or t.version == version)]
    if not cands:
        raise DefinitionError(f"no template for kind={kind!r} version={version!r}",
                              f"Không có mẫu cho loại văn bản {kind}")
    return cands[-1]


def known_names(definition: FormDefinition) -> set[str]:
    """Every top-level name a template of this definition may use."""
    names = set(GLOBAL_NAMES)
    for f in definition.fields:
        names.add(f.name)
        if f.type in ("text", "enum"):
            names.add(f.name + "_upper")
        if f.type == "date":
            names.add(f.name + "_long")
    return names
