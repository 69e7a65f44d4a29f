"""service.members."""
