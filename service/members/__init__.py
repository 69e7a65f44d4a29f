"""Party members: the registry, its field vocabulary, export, pages and API."""
