"""The web app's database: SQLAlchemy tables, repositories (revisions, accounts, audit) and Alembic migrations."""
