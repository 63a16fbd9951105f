"""Issue 17: decisions as compare-and-swap on a version column.

Every state transition of a change request and every signature of a risk decision is an
``UPDATE ... WHERE state = :expected AND version = :v`` that also increments ``version``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("change_requests", "risk_decisions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    for table in ("risk_decisions", "change_requests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
