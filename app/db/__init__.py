"""The database: engines and sessions, SQLite's driver set-up, what its errors mean, the
migrations' head, and the checks that run before serving."""
