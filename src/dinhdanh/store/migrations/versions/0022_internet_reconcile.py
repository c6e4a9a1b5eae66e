"""internet: reconciliation runs, registrars' action feed, citizens' disownings

Revision ID: 0022_internet_reconcile
Revises: 0021_rdap
Create Date: 2026-11-30 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_internet_reconcile"
down_revision: str | None = "0021_rdap"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "domain_disownments",
        sa.Column("ascii_name", sa.String(length=253), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("id_bidx", sa.LargeBinary(length=16), nullable=False),
        sa.Column("registrar", sa.String(length=16), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ascii_name", "subject_id", name=op.f("pk_domain_disownments")),
    )
    op.create_table(
        "domain_flags",
        sa.Column("ascii_name", sa.String(length=253), nullable=False),
        sa.Column("registrar", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ascii_name", name=op.f("pk_domain_flags")),
    )
    with op.batch_alter_table("domain_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_domain_flags_registrar"), ["registrar"], unique=False)
    op.create_table(
        "registrar_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registrar", sa.String(length=16), nullable=False),
        sa.Column("ascii_name", sa.String(length=253), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrar_actions")),
    )
    with op.batch_alter_table("registrar_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrar_actions_pending", ["registrar", "acknowledged_at"], unique=False
        )
    op.create_table(
        "internet_reconciliation_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("flags_opened", sa.Integer(), nullable=False),
        sa.Column("flags_cleared", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internet_reconciliation_runs")),
    )
    with op.batch_alter_table("internet_reconciliation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_internet_reconciliation_runs_finished_at"),
            ["finished_at"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("internet_reconciliation_runs")
    op.drop_table("registrar_actions")
    op.drop_table("domain_flags")
    op.drop_table("domain_disownments")
