"""What every page must satisfy in a browser: no internal English name in what a person reads, no table
wider than the screen, and no serious or critical accessibility violation (axe-core)."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"

# Words that are names in code, never Vietnamese (besides the form definitions' keys and the stored states).
CODE_WORDS = {"True", "False", "None", "null", "undefined", "NaN", "ticked", "empty", "unsure", "filled",
              "scribbled", "circled", "faint", "workplace_staff", "cell_secretary", "workplace_committee",
              "ward_committee", "residence_cell", "evaluation_sheet", "introduction_letter",
              "introduction_receipt", "foreign_form", "unreadable", "exempt_meetings", "male", "female",
              "present", "absent_excused", "absent_unexcused", "pending", "running", "finishing", "done",
              "failed", "cancelled", "issued", "returned", "voided", "review", "conflict", "applied",
              "rejected", "duplicate", "skipped", "previewed", "confirmed", "undone", "error", "standard",
              "exempt", "active", "transcribed", "Menu"}
# Names that are also ordinary data shown on pages (a sign-in name) are not flagged.
ALLOWED = {"admin"}


@lru_cache(maxsize=1)
def internal_names() -> frozenset[str]:
    """Every key of the form definitions (fields, items, options, variants), every stored state, role,
    status and job kind, and Python/JSON literals."""
    names = set(CODE_WORDS)
    for path in (ROOT / "templates").glob("*.form.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        names.update(f["name"] for f in data.get("fields", []))
        for vname, variant in (data.get("variants") or {}).items():
            names.add(vname)
            for item in variant.get("items", []):
                names.add(item["key"])
                for option in item.get("options", []):
                    names.add(option["key"])
                    names.add(f"{item['key']}.{option['key']}")
    from service import models
    for value in vars(models).values():
        if isinstance(value, type) and issubclass(value, models.TitledState) and value is not models.TitledState:
            names.update(s.value for s in value)
        elif isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
            if all(isinstance(v, str) and not v.isascii() for v in value.values()):  # code -> Vietnamese label
                names.update(value)
    from service.jobs import record
    names.update(record.JOB_KINDS)
    return frozenset(n for n in names if n and n not in ALLOWED)


READ_TEXT_JS = """() => {
  let body = document.body.innerText;  // <code> shows merge fields on purpose (template help)
  document.querySelectorAll('code').forEach(c => { body = body.split(c.textContent).join(' '); });
  const parts = [document.title, body];
  document.querySelectorAll('[title],[placeholder],[aria-label],[alt]').forEach(e => {
    for (const a of ['title', 'placeholder', 'aria-label', 'alt']) { if (e.getAttribute(a)) parts.push(e.getAttribute(a)); }
  });
  document.querySelectorAll('svg title, option').forEach(e => parts.push(e.textContent));
  return parts.join('\\n');
}"""


def english_words(page) -> list[str]:
    """Internal names found in what the page shows (text, tooltips, placeholders, options)."""
    text = page.evaluate(READ_TEXT_JS)
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z]", text))
    names = internal_names()
    return sorted(w for w in words if w in names or w.rstrip(".") in names)


OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > width + 1) out.push('page ' + document.documentElement.scrollWidth + 'px');
  document.querySelectorAll('table').forEach(t => {
    const r = t.getBoundingClientRect();
    if (r.width && (r.right > width + 1 || r.left < -1)) out.push('table#' + (t.id || '?') + ' ' + Math.round(r.right) + 'px');
  });
  return out;
}"""


def overflow(page) -> list[str]:
    """Tables (and the page) wider than the viewport."""
    return page.evaluate(OVERFLOW_JS)


# The rules of the pass: names and labels of controls, contrast, keyboard focus, structure (a subset of
# WCAG 2.1 A/AA: running every rule on every page would take minutes on a shared machine).
AXE_RULES = ["label", "label-title-only", "select-name", "button-name", "input-button-name", "link-name",
             "image-alt", "svg-img-alt", "aria-progressbar-name", "aria-input-field-name", "aria-toggle-field-name",
             "aria-required-attr", "aria-valid-attr", "aria-valid-attr-value", "aria-allowed-attr", "aria-hidden-focus",
             "color-contrast", "link-in-text-block", "tabindex", "scrollable-region-focusable", "nested-interactive",
             "focus-order-semantics", "frame-focusable-content", "document-title", "html-has-lang", "html-lang-valid",
             "duplicate-id-aria", "list", "listitem", "definition-list", "dlitem", "th-has-data-cells",
             "td-headers-attr", "meta-viewport", "page-has-heading-one", "landmark-one-main"]


AXE_PATH = "/__browser-test__/axe.min.js"  # answered by the browser context (serve_axe), never by the service


def axe_source() -> str:
    if not AXE_JS.exists():  # with CI=true a failure, elsewhere a skip that says why
        from tests.support.services import require
        require(f"axe-core is not installed (npm ci --prefix {AXE_DIR}; scripts/install.sh does it)")
    return AXE_JS.read_text(encoding="utf-8")


def serve_axe(context) -> None:
    """Let the pages of a browser context load axe-core from AXE_PATH (a script file loads faster than
    the same text injected inline; the context needs bypass_csp for it)."""
    source = axe_source()
    context.route("**" + AXE_PATH, lambda route: route.fulfill(body=source, content_type="application/javascript"))


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations of the page (WCAG 2.1 A/AA and best practices); its
    browser context must serve axe-core (serve_axe)."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(url=AXE_PATH)
    result = page.evaluate("""async (AXE_RULES) => {
      const r = await axe.run(document, {resultTypes: ['violations'], preload: false,  // no CSSOM rule is run
                                         runOnly: {type: 'rule', values: AXE_RULES}});
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
    }""", AXE_RULES)
    return result


INLINE = {"inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
          "<style> block": re.compile(r"<style\b", re.I),
          "style= attribute": re.compile(r"<[a-z][^>]*\sstyle=", re.I),
          "inline event handler": re.compile(r"<[a-z][^>]*\son[a-z]+=", re.I)}


def inline_code(html: str) -> list[str]:
    """What the strict CSP would refuse, found in the page as served (the walk bypasses the CSP to
    inject axe-core, so the browser does not report it there)."""
    return [name for name, pattern in INLINE.items() if pattern.search(html)]
