"""The connections the stores share: one SQLite file or one PostgreSQL server behind a lock.

The job store and the translation memory both keep their state there; each subclasses the helper
of its backend and keeps its own SQL.
"""
