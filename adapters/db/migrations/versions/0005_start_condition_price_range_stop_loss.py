"""dca_assets: deal start condition, price range and stop loss parameters (NULL = off)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.db.types import ExactDecimal

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMN, never a batch rebuild: on SQLite a batch operation copies and drops `dca_assets`,
# and the drop cascades to every cycle and order that references it (ON DELETE CASCADE). Both engines
# add a nullable column, or one with a constant default, in place.


def upgrade() -> None:
    op.add_column('dca_assets', sa.Column('start_condition', sa.String(length=500), nullable=True))
    op.add_column('dca_assets', sa.Column('min_price', ExactDecimal(20, 10), nullable=True))
    op.add_column('dca_assets', sa.Column('max_price', ExactDecimal(20, 10), nullable=True))
    op.add_column('dca_assets', sa.Column('stop_loss_percent', ExactDecimal(10, 4), nullable=True))
    op.add_column('dca_assets', sa.Column('stop_loss_timeout', sa.Integer(), server_default=sa.text('0'),
                                          nullable=False))


def downgrade() -> None:
    for column in ('stop_loss_timeout', 'stop_loss_percent', 'max_price', 'min_price', 'start_condition'):
        op.drop_column('dca_assets', column)
