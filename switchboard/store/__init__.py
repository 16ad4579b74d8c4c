"""The only place with SQL: tables, queries and migrations (SQLite and PostgreSQL)."""
