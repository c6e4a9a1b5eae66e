"""oidc: when a parked authorization request sent the user to log in (prompt=login); the
phone number an enrolment's SMS code proved (phone_number_verified)

Revision ID: 0009_oidc_clients
Revises: 0008_recovery_stepup
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_oidc_clients"
down_revision: str | None = "0008_recovery_stepup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_par_requests") as batch:
        batch.add_column(sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("auth_enrolments") as batch:
        batch.add_column(sa.Column("phone_bidx", sa.LargeBinary(length=16), nullable=True))
    with op.batch_alter_table("auth_accounts") as batch:
        batch.add_column(sa.Column("phone_verified_bidx", sa.LargeBinary(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auth_accounts") as batch:
        batch.drop_column("phone_verified_bidx")
    with op.batch_alter_table("auth_enrolments") as batch:
        batch.drop_column("phone_bidx")
    with op.batch_alter_table("oidc_par_requests") as batch:
        batch.drop_column("requested_at")
