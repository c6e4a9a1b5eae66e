"""auth, social: index the codes by (client, nonce); status-read counters in slots

Revision ID: 0020_feed_order
Revises: 0019_phone_checks
Create Date: 2026-11-30 20:30:00

- ``oidc_codes (client_id, nonce)``: binding by login finds the code an ID token came from
  (``auth.oidc.holder.holder_of``) by its client and nonce; without it, a scan of every code.
- ``platform_status_reads.slot``: a platform-day's reads are the sum of its slots (one per
  database connection on PostgreSQL), so concurrent status reads do not queue on one row.
  Existing counts go to slot 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_feed_order"
down_revision: str | None = "0019_phone_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_codes") as batch:
        batch.create_index("ix_oidc_codes_client_nonce", ["client_id", "nonce"], unique=False)
    with op.batch_alter_table("platform_status_reads") as batch:
        batch.add_column(sa.Column("slot", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("pk_platform_status_reads", type_="primary")
        batch.create_primary_key("pk_platform_status_reads", ["platform", "day", "slot"])
    with op.batch_alter_table("platform_status_reads") as batch:
        batch.alter_column("slot", server_default=None)


def downgrade() -> None:
    # One row per platform-day again: the sum in the lowest slot, the other slots dropped.
    same = "r.platform = platform_status_reads.platform AND r.day = platform_status_reads.day"
    op.execute(
        "UPDATE platform_status_reads SET reads = "  # noqa: S608 (constant text)
        f"(SELECT sum(r.reads) FROM platform_status_reads r WHERE {same})"
    )
    op.execute(
        "DELETE FROM platform_status_reads WHERE slot > "  # noqa: S608 (constant text)
        f"(SELECT min(r.slot) FROM platform_status_reads r WHERE {same})"
    )
    with op.batch_alter_table("platform_status_reads") as batch:
        batch.drop_constraint("pk_platform_status_reads", type_="primary")
        batch.create_primary_key("pk_platform_status_reads", ["platform", "day"])
        batch.drop_column("slot")
    with op.batch_alter_table("oidc_codes") as batch:
        batch.drop_index("ix_oidc_codes_client_nonce")
