"""Form knowledge shared by docgen (which prints forms) and ocr (which reads them back).

A plain package: imports neither docgen, ocr, flask, sqlalchemy nor service.
"""
