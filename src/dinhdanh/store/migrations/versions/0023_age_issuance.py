"""age: OpenID4VCI offers and nonces, OpenID4VP requests

Revision ID: 0023_age_issuance
Revises: 0022_internet_reconcile
Create Date: 2026-11-30 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_age_issuance"
down_revision: str | None = "0022_internet_reconcile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "age_vci_offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("code_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("code_expires_at", _TS, nullable=False),
        sa.Column("code_used_at", _TS, nullable=True),
        sa.Column("token_sha256", sa.LargeBinary(length=32), nullable=True),
        sa.Column("token_expires_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_age_vci_offers")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_age_vci_offers_code_sha256")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_age_vci_offers_token_sha256")),
    )
    with op.batch_alter_table("age_vci_offers") as batch:
        batch.create_index(
            batch.f("ix_age_vci_offers_code_expires_at"), ["code_expires_at"], unique=False
        )
    op.create_table(
        "age_vci_nonces",
        sa.Column("nonce_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("nonce_sha256", name=op.f("pk_age_vci_nonces")),
    )
    with op.batch_alter_table("age_vci_nonces") as batch:
        batch.create_index(batch.f("ix_age_vci_nonces_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "age_vp_requests",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("claim", sa.String(length=20), nullable=False),
        sa.Column("nonce", sa.String(length=43), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_age_vp_requests")),
    )
    with op.batch_alter_table("age_vp_requests") as batch:
        batch.create_index(batch.f("ix_age_vp_requests_expires_at"), ["expires_at"], unique=False)
        batch.create_index(batch.f("ix_age_vp_requests_platform"), ["platform"], unique=False)


def downgrade() -> None:
    op.drop_table("age_vp_requests")
    op.drop_table("age_vci_nonces")
    op.drop_table("age_vci_offers")
