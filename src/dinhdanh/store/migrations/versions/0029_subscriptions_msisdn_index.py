"""telecom: one index on a subscription's number, led by the number

Revision ID: 0029_subscriptions_msisdn_index
Revises: 0028_telecom_snapshots
Create Date: 2026-12-01 07:00:00

- ``uq_subscriptions_msisdn_carrier`` (msisdn, carrier), unique, replaces both
  ``uq_subscriptions_carrier_msisdn`` (carrier, msisdn) and ``ix_subscriptions_msisdn``
  (msisdn): every query that used either filters on the number, so one index serves them
  all and an upload's rows update one random-key index fewer (issue 14, ADR 0026).
- ``ix_citizens_deceased``, partial (the deceased only): the reconciliation opens the dates
  of death without reading the whole registry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_subscriptions_msisdn_index"
down_revision: str | None = "0028_telecom_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index("uq_subscriptions_msisdn_carrier", ["msisdn", "carrier"], unique=True)
        batch_op.drop_index("uq_subscriptions_carrier_msisdn")
        batch_op.drop_index("ix_subscriptions_msisdn")
    with op.batch_alter_table("citizens", schema=None) as batch_op:
        batch_op.create_index(
            "ix_citizens_deceased",
            ["id"],
            unique=False,
            sqlite_where=sa.text("deceased IS 1"),
            postgresql_where=sa.text("deceased IS true"),
        )


def downgrade() -> None:
    with op.batch_alter_table("citizens", schema=None) as batch_op:
        batch_op.drop_index("ix_citizens_deceased")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_subscriptions_msisdn", ["msisdn"], unique=False)
        batch_op.create_index("uq_subscriptions_carrier_msisdn", ["carrier", "msisdn"], unique=True)
        batch_op.drop_index("uq_subscriptions_msisdn_carrier")
