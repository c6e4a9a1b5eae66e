"""auth: account recovery with a waiting period; the enrolment flow holds the new password's
hash while the second factor is due

Revision ID: 0008_recovery_stepup
Revises: 0007_api_keys_expiry
Create Date: 2026-11-30 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_recovery_stepup"
down_revision: str | None = "0007_api_keys_expiry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_account_recoveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("apply_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["auth_accounts.id"],
            name=op.f("fk_auth_account_recoveries_account_id_auth_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_account_recoveries")),
    )
    with op.batch_alter_table("auth_account_recoveries") as batch:
        batch.create_index(
            batch.f("ix_auth_account_recoveries_account_id"), ["account_id"], unique=False
        )
    with op.batch_alter_table("auth_enrolments") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auth_enrolments") as batch:
        batch.drop_column("password_hash")
    with op.batch_alter_table("auth_account_recoveries") as batch:
        batch.drop_index(batch.f("ix_auth_account_recoveries_account_id"))
    op.drop_table("auth_account_recoveries")
