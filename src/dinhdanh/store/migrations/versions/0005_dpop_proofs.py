"""auth: DPoP proofs seen (RFC 9449), against replay

Revision ID: 0005_dpop_proofs
Revises: 0004_seal_challenges
Create Date: 2026-11-29 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_dpop_proofs"
down_revision: str | None = "0004_seal_challenges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_used_dpop_proofs",
        sa.Column("jkt", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jkt", "jti", name=op.f("pk_oidc_used_dpop_proofs")),
    )
    with op.batch_alter_table("oidc_used_dpop_proofs") as batch:
        batch.create_index(
            batch.f("ix_oidc_used_dpop_proofs_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oidc_used_dpop_proofs") as batch:
        batch.drop_index(batch.f("ix_oidc_used_dpop_proofs_expires_at"))
    op.drop_table("oidc_used_dpop_proofs")
