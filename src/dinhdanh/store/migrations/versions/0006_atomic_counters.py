"""auth: WebAuthn challenges used (the challenges themselves are no longer stored)

Revision ID: 0006_atomic_counters
Revises: 0005_dpop_proofs
Create Date: 2026-11-30 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_atomic_counters"
down_revision: str | None = "0005_dpop_proofs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_used_challenges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_used_challenges")),
    )
    with op.batch_alter_table("auth_used_challenges") as batch:
        batch.create_index(
            batch.f("ix_auth_used_challenges_expires_at"), ["expires_at"], unique=False
        )
    # WebAuthn ceremonies in flight used stored challenges: they end (the user tries again).
    op.execute("DELETE FROM auth_challenges WHERE purpose LIKE 'webauthn_%'")


def downgrade() -> None:
    with op.batch_alter_table("auth_used_challenges") as batch:
        batch.drop_index(batch.f("ix_auth_used_challenges_expires_at"))
    op.drop_table("auth_used_challenges")
