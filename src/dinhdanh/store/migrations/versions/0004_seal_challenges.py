"""auth: challenges sealed, keyed by the handle's digest, deleted once used

Revision ID: 0004_seal_challenges
Revises: 0003_auth_oidc
Create Date: 2026-11-24 10:00:00

Rows written before this revision hold their value in clear (a TOTP setup's secret, a
WebAuthn challenge) under the handle itself, and were never deleted. They can't be sealed in
place (their handles are not known), and every one of them is stale or minutes from expiry,
so they are all deleted: a pending TOTP setup or passkey ceremony simply starts again. On
SQLite the deleted content is overwritten with zeros (``secure_delete``); on PostgreSQL dead
rows stay in the table's files until ``VACUUM FULL auth_challenges`` (docs/auth.md).
``used_at`` goes (a used challenge is deleted), and ``expires_at`` gets the index the purge of
expired rows uses. ``challenge`` keeps its type (BLOB, BYTEA): only the model dropped the
length, which a sealed 32-byte challenge exceeds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_seal_challenges"
down_revision: str | None = "0003_auth_oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        previous = bind.exec_driver_sql("PRAGMA secure_delete").scalar()
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    op.execute("DELETE FROM auth_challenges")
    with op.batch_alter_table("auth_challenges") as batch:
        batch.drop_column("used_at")
        batch.create_index(batch.f("ix_auth_challenges_expires_at"), ["expires_at"], unique=False)
    if sqlite:
        bind.exec_driver_sql(f"PRAGMA secure_delete = {int(previous or 0)}")


def downgrade() -> None:
    op.execute("DELETE FROM auth_challenges")  # sealed rows mean nothing to the old code
    with op.batch_alter_table("auth_challenges") as batch:
        batch.drop_index(batch.f("ix_auth_challenges_expires_at"))
        batch.add_column(sa.Column("used_at", sa.DateTime(timezone=True), nullable=True))
