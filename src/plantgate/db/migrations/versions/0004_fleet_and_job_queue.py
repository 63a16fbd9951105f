"""The fleet on a task queue: results written once per (revision, day, fleet inputs), fleet inputs and grants,
an outbox for notifications and SOC events, config uploads and reports made by jobs, users' e-mail, and on
PostgreSQL the Procrastinate job queue's own schema. ``check_runs`` (the home-made runner's rows) goes.

Procrastinate's schema is applied from the installed package (``SchemaManager.get_schema``), in the
same transaction as our tables; a Procrastinate upgrade that changes its schema gets a migration here
that applies the package's own migration files.

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
    op.drop_table('check_runs')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=300), server_default='', nullable=False))
    op.create_table('check_results',
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.String(length=10), nullable=False),
    sa.Column('feeds', sa.String(length=64), nullable=False),
    sa.Column('baseline', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('computations', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('revision_id', 'as_of', 'feeds', 'baseline')
    )
    with op.batch_alter_table('check_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_results_site_id'), ['site_id'], unique=False)
    op.create_table('fleet_inputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fleet_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fleet_inputs_kind'), ['kind'], unique=False)
    op.create_table('fleet_grants',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'role')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_state'), ['state'], unique=False)
    op.create_table('config_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('firewall_id', sa.String(length=200), nullable=False),
    sa.Column('based_on', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('result_revision_id', sa.Integer(), nullable=True),
    sa.Column('as_of', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['based_on'], ['revisions.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['result_revision_id'], ['revisions.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('config_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_config_uploads_site_id'), ['site_id'], unique=False)
    op.create_table('reports',
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.String(length=10), nullable=False),
    sa.Column('feeds', sa.String(length=64), nullable=False),
    sa.Column('baseline', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ),
    sa.PrimaryKeyConstraint('revision_id', 'as_of', 'feeds', 'baseline', 'format')
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(SchemaManager.get_schema())  # no parameters: its '%' signs are SQL, not placeholders


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
                                      "procrastinate_jobs, procrastinate_workers CASCADE")
    for table in ('reports', 'config_uploads', 'outbox', 'fleet_grants', 'fleet_inputs', 'check_results'):
        op.drop_table(table)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')
    op.create_table('check_runs',
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.String(length=10), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), server_default='done', nullable=False),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], ),
    sa.PrimaryKeyConstraint('revision_id', 'as_of')
    )
