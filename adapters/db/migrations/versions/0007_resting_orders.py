"""orders placed ahead: the take-profit's order type, max active safety orders, resting orders

`dca_assets.take_profit_order_type` ('market' or 'limit') and `dca_assets.active_safety_orders`
(3Commas' "max active safety orders"; 0 = reactive). `dca_orders.resting`: the order was placed
ahead of need and rests on the book while its cycle watches (a safety order of the ladder, or the
limit take-profit), so a restarted bot loads it into the cycle's resting orders, not as its one
acting order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMN with constant defaults (see 0005: a batch rebuild of `dca_assets` on SQLite would
# cascade-delete its cycles and orders).


def upgrade() -> None:
    op.add_column('dca_assets', sa.Column('take_profit_order_type', sa.String(length=10),
                                          server_default=sa.text("'market'"), nullable=False))
    op.add_column('dca_assets', sa.Column('active_safety_orders', sa.Integer(), server_default=sa.text('0'),
                                          nullable=False))
    op.add_column('dca_orders', sa.Column('resting', sa.Boolean(), server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    op.drop_column('dca_orders', 'resting')
    op.drop_column('dca_assets', 'active_safety_orders')
    op.drop_column('dca_assets', 'take_profit_order_type')
