"""privacy: the audit log over several hash chains, signed together

Revision ID: 0027_audit_chains
Revises: 0026_age_bands
Create Date: 2026-12-01 03:20:00

- ``audit_entries.chain`` and ``chain_seq``: the chain of a format-3 entry and its position
  there. Existing rows (formats 1 and 2) become chain 0 with no position (theirs is ``seq``):
  no row is rewritten, nothing already hashed or signed changes (ADR 0018).
- ``audit_head``: one row per chain, ``id`` the chain; the single head of before (id 1)
  becomes chain 0's, so chain 0 continues the old chain.
- ``audit_chain_checkpoints``: the heads of all chains signed together.
- PostgreSQL: ``audit_entries_seq`` hands out global seqs without a lock across chains,
  starting after the largest one already used.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_audit_chains"
down_revision: str | None = "0026_age_bands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chain", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.execute("UPDATE audit_head SET id = 0 WHERE id = 1")
    op.create_table(
        "audit_chain_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heads", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_checkpoints")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE audit_entries_seq AS bigint")
        op.execute(
            "SELECT setval('audit_entries_seq', (SELECT coalesce(max(seq), 0) + 1"
            " FROM audit_entries), false)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE audit_entries_seq")
    op.drop_table("audit_chain_checkpoints")
    op.execute("UPDATE audit_head SET id = 1 WHERE id = 0")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("chain_seq")
        batch_op.drop_column("chain")
