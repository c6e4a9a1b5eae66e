"""social: binding by phone (phone checks, their counters) and the junk-number flag

Revision ID: 0019_phone_checks
Revises: 0014_platforms
Create Date: 2026-11-30 20:19:00.630926
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_phone_checks"
down_revision: str | None = "0018_disclosure_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_phone_counts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_platform_phone_counts")),
    )
    op.create_table(
        "platform_phone_checks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("code_mac", sa.LargeBinary(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform"],
            ["platforms.code"],
            name=op.f("fk_platform_phone_checks_platform_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_phone_checks")),
    )
    with op.batch_alter_table("platform_phone_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platform_phone_checks_expires_at"), ["expires_at"], unique=False
        )

    with op.batch_alter_table("platform_bindings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number_key", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("number_junk", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_platform_bindings_number_key", ["number_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("platform_bindings", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_bindings_number_key")
        batch_op.drop_column("number_junk")
        batch_op.drop_column("number_key")

    with op.batch_alter_table("platform_phone_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_phone_checks_expires_at"))

    op.drop_table("platform_phone_checks")
    op.drop_table("platform_phone_counts")
