"""Previews: a rendered document marked "BẢN XEM TRƯỚC" across its page.

:func:`watermark` adds to a rendered .docx a large grey line of text behind
the content of the first page (a DrawingML text box anchored to the page, so
the layout of the document does not move).  Its QR, if any, is the caller's
business: previews carry a payload signed under the reserved preview key id
(:func:`forms.qrpayload.sign_preview`), which never verifies.
"""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from . import safexml

PREVIEW_TEXT = "BẢN XEM TRƯỚC"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_EMU_PER_MM = 36000

_ANCHOR = """<w:r xmlns:w="{w}" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
 xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
 xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><w:drawing>
<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" behindDoc="1" locked="1"
 layoutInCell="0" allowOverlap="1"><wp:simplePos x="0" y="0"/>
<wp:positionH relativeFrom="page"><wp:posOffset>{x}</wp:posOffset></wp:positionH>
<wp:positionV relativeFrom="page"><wp:posOffset>{y}</wp:posOffset></wp:positionV>
<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>
<wp:docPr id="9901" name="preview_watermark" descr="{text}"/><wp:cNvGraphicFramePr/>
<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">
<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>
<wps:txbx><w:txbxContent><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:rPr>
<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:cs="Times New Roman"/><w:b/>
<w:color w:val="C8C8C8"/><w:sz w:val="{half_pt}"/></w:rPr><w:t>{text}</w:t></w:r></w:p></w:txbxContent></wps:txbx>
<wps:bodyPr rot="0" wrap="none" lIns="0" tIns="0" rIns="0" bIns="0" anchor="ctr"><a:noAutofit/></wps:bodyPr>
</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>"""


def watermark(docx: bytes, text: str = PREVIEW_TEXT, *, size_pt: int = 60) -> bytes:
    """The document with ``text`` printed large and grey across the middle of its first page."""
    cx, cy = 200 * _EMU_PER_MM, 30 * _EMU_PER_MM
    x, y = (210 * _EMU_PER_MM - cx) // 2, (297 * _EMU_PER_MM - cy) // 2
    run = safexml.parse(_ANCHOR.format(w=W, x=x, y=y, cx=cx, cy=cy, half_pt=2 * size_pt, text=escape(text)))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                root = safexml.parse(data)
                first = next(root.iter(f"{{{W}}}p"))
                ppr = first.find(f"{{{W}}}pPr")
                first.insert(0 if ppr is None else list(first).index(ppr) + 1, run)
                from lxml import etree
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            zout.writestr(info, data)
    return out.getvalue()
