"""identity: the citizens whose birth date a registry import corrected, to recheck

Revision ID: 0031_birth_date_corrections
Revises: 0030_binding_accounts
Create Date: 2026-12-01 20:45:00

``birth_date_corrections``: one row per citizen whose birth date changed in the registry
(written with the change by ``Registry.apply``), read and cleared by ``age.bands`` after
lowering or raising the age bands the platforms hold and revoking the citizen's age
credentials: a correction that makes someone a child must not leave "over 16" standing.
Only the subject id (a random UUID) and when: no date.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_birth_date_corrections"
down_revision: str | None = "0030_binding_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "birth_date_corrections",
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_birth_date_corrections")),
    )


def downgrade() -> None:
    op.drop_table("birth_date_corrections")
