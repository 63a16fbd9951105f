"""Jobs on an existing distributed task queue: checks, re-judging after feed updates, uploads, reports.

Nothing here is a queue. The job bodies (``work``) are plain functions of a database URL and
ids; each is idempotent (a second run, or a retry after a crash, finds its result stored and
writes nothing), so the queue may run one twice. ``queue`` hands them to Procrastinate on
PostgreSQL (``plantgate worker`` runs them, on any number of machines) or, for the embedded
SQLite default, to a process pool of the web app's own (``concurrent.futures``).
"""
