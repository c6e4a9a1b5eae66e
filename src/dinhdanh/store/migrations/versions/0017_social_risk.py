"""social: each platform account's risk from the latest ranking, and its first report

Revision ID: 0017_social_risk
Revises: 0014_platforms
Create Date: 2026-11-30 20:19:03.618737
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_social_risk"
down_revision: str | None = "0016_age_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_first_reports",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_key", name=op.f("pk_platform_first_reports")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "platform_risk",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_key", name=op.f("pk_platform_risk")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("platform_risk")
    op.drop_table("platform_first_reports")
