"""age: how far platform bindings' age bands are refreshed

Revision ID: 0026_age_bands
Revises: 0025_posture
Create Date: 2026-12-01 00:50:00

- ``age_band_refresh``: one row, the last day covered by ``dinhdanh platforms recheck``'s
  age-band refresh (``age.bands``), so runs are idempotent and a missed period is caught up.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_age_bands"
down_revision: str | None = "0025_posture"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "age_band_refresh",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_age_band_refresh")),
    )


def downgrade() -> None:
    op.drop_table("age_band_refresh")
