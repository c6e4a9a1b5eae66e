"""telecom: an upload's rejected rows, sealed, for download

Revision ID: 0011_upload_rejects
Revises: 0010_telecom_ranges
Create Date: 2026-11-30 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_upload_rejects"
down_revision: str | None = "0010_telecom_ranges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telecom_upload_rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier"],
            ["carriers.code"],
            name=op.f("fk_telecom_upload_rejects_carrier_carriers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telecom_upload_rejects")),
    )
    op.create_index(
        "uq_telecom_upload_rejects_chunk",
        "telecom_upload_rejects",
        ["carrier", "upload_id", "chunk"],
        unique=True,
    )
    op.create_index(
        op.f("ix_telecom_upload_rejects_expires_at"),
        "telecom_upload_rejects",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_telecom_upload_rejects_expires_at"), table_name="telecom_upload_rejects")
    op.drop_index("uq_telecom_upload_rejects_chunk", table_name="telecom_upload_rejects")
    op.drop_table("telecom_upload_rejects")
