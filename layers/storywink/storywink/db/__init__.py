"""PostgreSQL access: the lazy engine, the tables, repositories and migrations."""
