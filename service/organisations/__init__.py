"""Organisations (the party organisation tree): pages and API."""
