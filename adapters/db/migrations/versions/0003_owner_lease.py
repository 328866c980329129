"""the owner lease: one supervisor per book

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.db.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dca_owner_lease',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=True),
    sa.Column('holder', sa.String(length=32), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('heartbeat_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.Column('expires_at', adapters.db.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name'),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_general_ci',
    mysql_engine='InnoDB'
    )


def downgrade() -> None:
    op.drop_table('dca_owner_lease')
