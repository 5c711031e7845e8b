"""The storage port: the fake store, SQLite and PostgreSQL."""
