"""circuit breaker trips: one standing per organization until reset

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "breaker_trips",
        sa.Column("id", BigId, nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.Column("tripped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("success_rate", sa.Double(), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("failure_id", BigId, nullable=True),
        sa.Column("reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reset_by", sa.String(length=100), nullable=True),
        sa.Column("reset_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["failure_id"],
            ["failures.id"],
            name=op.f("fk_breaker_trips_failure_id_failures"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaker_trips")),
        sa.UniqueConstraint("open_key", name=op.f("uq_breaker_trips_open_key")),
    )
    op.create_index(op.f("ix_breaker_trips_organization"), "breaker_trips", ["organization"])


def downgrade() -> None:
    op.drop_index(op.f("ix_breaker_trips_organization"), table_name="breaker_trips")
    op.drop_table("breaker_trips")
