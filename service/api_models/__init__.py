"""Request and answer models of the JSON API, one module per feature (see service.api_schema)."""
