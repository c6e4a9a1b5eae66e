"""store: generations of the tables the reconciliation reads from Parquet snapshots

Revision ID: 0028_telecom_snapshots
Revises: 0027_audit_chains
Create Date: 2026-12-01 03:20:00

- ``snapshot_generations``: one counter per snapshotted input (``citizens``,
  ``subscriptions:<carrier>``), bumped in the transaction of every write to those rows, so a
  Parquet snapshot stamped with the generation it was copied at is known to be current
  (``store.snapshots``, ADR 0020).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_telecom_snapshots"
down_revision: str | None = "0027_audit_chains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snapshot_generations",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_snapshot_generations")),
    )


def downgrade() -> None:
    op.drop_table("snapshot_generations")
