"""social: each binding keeps how many accounts its person has bound at that platform

Revision ID: 0030_binding_accounts
Revises: 0029_subscriptions_msisdn_index
Create Date: 2026-12-01 10:15:00

``platform_bindings.accounts``: written by every binding and revocation for each person
whose count changed (social.service, under a per-platform lock on PostgreSQL), read by the
status API's ACCOUNT_LIMIT flag without counting at every read (a third of the database's
time per batch of 1,000: docs/performance.md, status API). Filled here from the rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_binding_accounts"
down_revision: str | None = "0029_subscriptions_msisdn_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("platform_bindings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accounts", sa.Integer(), server_default="1", nullable=False))
    op.execute(
        "UPDATE platform_bindings SET accounts = (SELECT count(*) FROM platform_bindings s"
        " WHERE s.platform = platform_bindings.platform"
        " AND s.pairwise_sub = platform_bindings.pairwise_sub)"
    )


def downgrade() -> None:
    with op.batch_alter_table("platform_bindings", schema=None) as batch_op:
        batch_op.drop_column("accounts")
