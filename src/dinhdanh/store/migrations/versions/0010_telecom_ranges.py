"""telecom: carriers' number blocks, declared ports, declarations bound to a subscription

Revision ID: 0010_telecom_ranges
Revises: 0009_oidc_clients
Create Date: 2026-11-30 14:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010_telecom_ranges"
down_revision: str | None = "0009_oidc_clients"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The public numbering plan as of this revision (telecom/msisdn.py), for carriers that
# exist already: without blocks they could upload nothing.
PLAN = {
    "VTL": ("86", "96", "97", "98", "32", "33", "34", "35", "36", "37", "38", "39"),
    "VNP": ("88", "91", "94", "81", "82", "83", "84", "85"),
    "MBF": ("89", "90", "93", "70", "76", "77", "78", "79"),
    "VNMB": ("92", "56", "58"),
    "GMB": ("99", "59"),
    "ITEL": ("87",),
    "REDDI": ("55",),
}


def upgrade() -> None:
    ranges = op.create_table(
        "carrier_ranges",
        sa.Column("prefix", sa.String(length=9), nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier"], ["carriers.code"], name=op.f("fk_carrier_ranges_carrier_carriers")
        ),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_carrier_ranges")),
    )
    with op.batch_alter_table("carrier_ranges") as batch:
        batch.create_index(batch.f("ix_carrier_ranges_carrier"), ["carrier"], unique=False)
    op.create_table(
        "ported_numbers",
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier"], ["carriers.code"], name=op.f("fk_ported_numbers_carrier_carriers")
        ),
        sa.PrimaryKeyConstraint("msisdn", name=op.f("pk_ported_numbers")),
    )
    with op.batch_alter_table("ported_numbers") as batch:
        batch.create_index(batch.f("ix_ported_numbers_carrier"), ["carrier"], unique=False)
    with op.batch_alter_table("number_declarations") as batch:
        batch.add_column(sa.Column("subscription_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("id_bidx", sa.LargeBinary(length=16), nullable=True))
        batch.add_column(sa.Column("activation_at", sa.DateTime(), nullable=True))
        batch.create_index(
            batch.f("ix_number_declarations_subscription_id"), ["subscription_id"], unique=False
        )

    bind = op.get_bind()
    existing = {row[0] for row in bind.execute(sa.text("SELECT code FROM carriers"))}
    now = datetime.now(UTC)
    rows = [
        {"prefix": p, "carrier": code, "created_at": now}
        for code, prefixes in PLAN.items()
        if code in existing
        for p in prefixes
    ]
    if rows:
        op.bulk_insert(ranges, rows)
    # Bind each declaration to the active subscription of its declarer, if it still is one;
    # the rest no longer apply (the number changed hands).
    for column in ("id", "id_bidx", "activation_at"):
        target = "subscription_id" if column == "id" else column
        bind.execute(
            sa.text(
                f"""UPDATE number_declarations SET {target} = (
                SELECT s.{column} FROM subscriptions s JOIN citizens c ON c.id_bidx = s.id_bidx
                WHERE c.id = number_declarations.subject_id
                  AND s.msisdn = number_declarations.msisdn AND s.status = 'active'
                ORDER BY s.id LIMIT 1)"""  # noqa: S608 - fixed column names
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("number_declarations") as batch:
        batch.drop_index(batch.f("ix_number_declarations_subscription_id"))
        batch.drop_column("activation_at")
        batch.drop_column("id_bidx")
        batch.drop_column("subscription_id")
    with op.batch_alter_table("ported_numbers") as batch:
        batch.drop_index(batch.f("ix_ported_numbers_carrier"))
    op.drop_table("ported_numbers")
    with op.batch_alter_table("carrier_ranges") as batch:
        batch.drop_index(batch.f("ix_carrier_ranges_carrier"))
    op.drop_table("carrier_ranges")
