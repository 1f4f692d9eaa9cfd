"""observed_conclusions: what signed deliveries said of the attempts remediations await

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "observed_conclusions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("remediation_id", BigId, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("job_name", sa.String(length=300), nullable=True),
        sa.Column("conclusion", sa.String(length=30), nullable=False),
        sa.Column("delivery_id", sa.String(length=100), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["remediation_id"],
            ["remediations.id"],
            name=op.f("fk_observed_conclusions_remediation_id_remediations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_conclusions")),
        sa.UniqueConstraint(
            "remediation_id",
            "job_id",
            name=op.f("uq_observed_conclusions_remediation_id_job_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("observed_conclusions")
