"""Issue 21: findings accepted with a reason until an expiry date.

One row per (site, finding fingerprint) holds the current acceptance; accepting again after
a revocation or an expiry swaps the same row (compare-and-swap on ``version``), so two people
accepting one finding at once cannot both succeed. The history is the audit log's.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finding_acceptances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('rule_id', sa.String(length=40), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('accepted_by', sa.Integer(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['accepted_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['revoked_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'fingerprint')
    )
    with op.batch_alter_table('finding_acceptances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_acceptances_site_id'), ['site_id'], unique=False)


def downgrade() -> None:
    op.drop_table('finding_acceptances')
