"""Form knowledge shared by docgen (which prints forms) and ocr (which reads them back).

A plain library with no dependency beyond the standard library: it never
imports flask, sqlalchemy, celery, ``service``, ``docgen`` or ``ocr``.
See :mod:`forms.definition` (the typed form definition) and
:mod:`forms.qrpayload` (the QR payload codec).
"""
