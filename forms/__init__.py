"""Form definitions shared by docgen (writing forms) and ocr (reading them back).

A plain library with no dependency beyond the standard library: it never
imports flask, sqlalchemy, celery, ``service``, ``docgen`` or ``ocr``.
See :mod:`forms.definition`.
"""
