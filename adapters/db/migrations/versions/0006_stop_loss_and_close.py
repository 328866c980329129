"""the stop loss's pending timeout and the operator's close request, on the cycle

`stop_loss_since`: since when the bid has stayed at or below the cycle's stop-loss level (market
time), so a restart does not start the stop-loss timeout again. `close_requested_at`: the operator
asked (`supervisor.py close`) to sell the cycle at market and end it; a restart carries it out.
New terminal statuses `stopped` and `closed` fit `dca_cycles.status` (VARCHAR(20)) as they are.

Revision ID: 0006
Revises: 0004 (to be re-chained onto 0005, the deal start conditions' migration, when both land)
Create Date: 2026-12-06 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.db.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dca_cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stop_loss_since', adapters.db.types.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('close_requested_at', adapters.db.types.UtcDateTime(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN, never a batch rebuild: on SQLite a rebuilt `dca_cycles` cascades the drop to
    # every cycle event (ON DELETE CASCADE), which a downgrade must keep.
    op.drop_column('dca_cycles', 'close_requested_at')
    op.drop_column('dca_cycles', 'stop_loss_since')
