"""remembered human decisions, and bursts of one failure folded into one message

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "decision_memories",
        sa.Column("id", BigId, nullable=False),
        sa.Column("repository", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "rerun_failed_jobs",
                "none",
                name="action_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.Enum(
                "approve",
                "reject",
                name="memory_decision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_via", sa.String(length=16), nullable=False),
        sa.Column("approved_risk", sa.Integer(), nullable=False),
        sa.Column("approval_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approval_requests.id"],
            name=op.f("fk_decision_memories_approval_id_approval_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_memories")),
    )
    op.create_index(
        "ix_decision_memories_lookup",
        "decision_memories",
        ["repository", "fingerprint", "action"],
    )
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("memory_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("failures") as batch:
        batch.add_column(sa.Column("burst_of", BigId, nullable=True))
        batch.create_foreign_key(
            op.f("fk_failures_burst_of_failures"),
            "failures",
            ["burst_of"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("failures") as batch:
        batch.drop_constraint(op.f("fk_failures_burst_of_failures"), type_="foreignkey")
        batch.drop_column("burst_of")
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("memory_days")
    op.drop_index("ix_decision_memories_lookup", table_name="decision_memories")
    op.drop_table("decision_memories")
