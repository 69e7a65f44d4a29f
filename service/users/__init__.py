"""User accounts: administration, own account and API tokens pages."""
