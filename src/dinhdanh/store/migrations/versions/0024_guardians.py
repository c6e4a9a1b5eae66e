"""age: guardian links; social: a child's binding waits for a guardian's approval

Revision ID: 0024_guardians
Revises: 0023_age_issuance
Create Date: 2026-11-30 23:55:00

- ``guardian_links``: child and guardian subject ids, relation, source, validity, end.
- ``platform_bindings.guardian_state`` and ``guardian_link``: the approval of a child's
  account (None for accounts that need none), read by status calls without opening anything.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_guardians"
down_revision: str | None = "0023_age_issuance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guardian_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("child", sa.String(length=36), nullable=False),
        sa.Column("guardian", sa.String(length=36), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("legal_basis", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["child"], ["citizens.id"], name=op.f("fk_guardian_links_child_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["guardian"], ["citizens.id"], name=op.f("fk_guardian_links_guardian_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_links")),
        sa.UniqueConstraint("child", "guardian", "source", name="uq_guardian_links_pair"),
    )
    op.create_index("ix_guardian_links_child", "guardian_links", ["child"], unique=False)
    op.create_index(
        op.f("ix_guardian_links_guardian"), "guardian_links", ["guardian"], unique=False
    )
    with op.batch_alter_table("platform_bindings") as batch:
        batch.add_column(sa.Column("guardian_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("guardian_link", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("platform_bindings") as batch:
        batch.drop_column("guardian_link")
        batch.drop_column("guardian_state")
    op.drop_index(op.f("ix_guardian_links_guardian"), table_name="guardian_links")
    op.drop_index("ix_guardian_links_child", table_name="guardian_links")
    op.drop_table("guardian_links")
