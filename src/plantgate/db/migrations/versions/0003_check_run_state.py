"""Check runs in the background: a run's state (running, done, failed), its error and when it started.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('check_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='done', nullable=False))
        batch_op.add_column(sa.Column('error', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('check_runs', schema=None) as batch_op:
        batch_op.drop_column('started_at')
        batch_op.drop_column('error')
        batch_op.drop_column('state')
