"""privacy: audit entries name organisation, legal basis, case reference, disclosure date

Existing rows become format 1 and keep their hashes: nothing already signed is re-chained.

Revision ID: 0012_audit_disclosure
Revises: 0011_upload_rejects
Create Date: 2026-11-30 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_audit_disclosure"
down_revision: str | None = "0011_upload_rejects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(
            sa.Column("format", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch.add_column(sa.Column("organisation", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("legal_basis", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("case_ref", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("disclose_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Format-2 rows would no longer verify without these columns: refuse rather than lose them.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM audit_entries WHERE format <> 1 LIMIT 1")).first():
        raise RuntimeError("audit entries of format 2 exist: their hashes need these columns")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("disclose_after")
        batch.drop_column("case_ref")
        batch.drop_column("legal_basis")
        batch.drop_column("organisation")
        batch.drop_column("format")
