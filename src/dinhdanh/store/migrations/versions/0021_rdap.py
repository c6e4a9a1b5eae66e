"""internet: RDAP rate-limit windows shared by server processes

Revision ID: 0021_rdap
Revises: 0020_feed_order
Create Date: 2026-11-30 23:50:00

- ``rdap_rate_windows``: one row per client (a keyed hash of its address): the fixed window
  it last queried in and its count there (``internet.ratelimit.DatabaseLimiter``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_rdap"
down_revision: str | None = "0020_feed_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rdap_rate_windows",
        sa.Column("client", sa.LargeBinary(length=16), nullable=False),
        sa.Column("window_no", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", name=op.f("pk_rdap_rate_windows")),
    )


def downgrade() -> None:
    op.drop_table("rdap_rate_windows")
