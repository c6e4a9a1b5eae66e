"""staff: grants of staff roles; API keys get an owner and may be personal tokens;
telecom: finished reconciliation runs (for the officer console)

Revision ID: 0013_staff_grants
Revises: 0012_audit_disclosure
Create Date: 2026-11-30 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_staff_grants"
down_revision: str | None = "0012_audit_disclosure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("granted_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["citizens.id"], name=op.f("fk_staff_grants_subject_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_grants")),
    )
    op.create_index(
        op.f("ix_staff_grants_subject_id"), "staff_grants", ["subject_id"], unique=False
    )
    op.create_table(
        "telecom_reconciliation_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=True),
        sa.Column("finished_at", _TS, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("cases_opened", sa.Integer(), nullable=False),
        sa.Column("cases_resolved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telecom_reconciliation_runs")),
    )
    op.create_index(
        op.f("ix_telecom_reconciliation_runs_finished_at"),
        "telecom_reconciliation_runs",
        ["finished_at"],
        unique=False,
    )
    # Existing keys are held by whoever they were named after: their name becomes the owner.
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("staff_grant_id", sa.String(length=32), nullable=True))
    op.execute("UPDATE api_keys SET owner = name")
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("owner", existing_type=sa.String(length=200), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("staff_grant_id")
        batch.drop_column("owner")
    op.drop_index(
        op.f("ix_telecom_reconciliation_runs_finished_at"),
        table_name="telecom_reconciliation_runs",
    )
    op.drop_table("telecom_reconciliation_runs")
    op.drop_index(op.f("ix_staff_grants_subject_id"), table_name="staff_grants")
    op.drop_table("staff_grants")
