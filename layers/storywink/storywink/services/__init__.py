"""Use cases: what the API and the workers ask for, built on repositories and storage."""
