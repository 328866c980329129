"""where each order's fee came from: the venue, or an estimate from the configured rates

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dca_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_source', sa.String(length=8), server_default=sa.text("'estimate'"),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('dca_orders', schema=None) as batch_op:
        batch_op.drop_column('fee_source')
