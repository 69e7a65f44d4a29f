"""The one lxml parser for XML parts the project reads itself (docx parts of templates and documents).

No entity is expanded, no DTD or network resource is loaded, and libxml2's limits on huge
text nodes and depth stay on.  Uploaded containers are checked first by
:func:`docgen.container.check_container`, which refuses any part with a DTD at all.
"""
from __future__ import annotations

from lxml import etree

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                         huge_tree=False)


def parse(data: bytes | str) -> etree._Element:
    """Parse one XML part with :data:`PARSER` (raises ``etree.XMLSyntaxError`` on bad XML)."""
    return etree.fromstring(data, PARSER)
