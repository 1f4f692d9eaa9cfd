"""flaky evidence: jobs that failed and then passed on a rerun of the same commit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flaky_evidence",
        sa.Column("id", BigId, nullable=False),
        sa.Column("repository", sa.String(length=200), nullable=False),
        sa.Column("workflow_name", sa.String(length=300), nullable=False),
        sa.Column("job_name", sa.String(length=300), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("failed_attempt", sa.Integer(), nullable=False),
        sa.Column("passed_attempt", sa.Integer(), nullable=False),
        sa.Column("failure_id", BigId, nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["failure_id"],
            ["failures.id"],
            name=op.f("fk_flaky_evidence_failure_id_failures"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flaky_evidence")),
        sa.UniqueConstraint(
            "repository",
            "run_id",
            "job_name",
            "passed_attempt",
            name=op.f("uq_flaky_evidence_repository_run_id_job_name_passed_attempt"),
        ),
    )
    op.create_index(
        "ix_flaky_evidence_job_observed_at",
        "flaky_evidence",
        ["repository", "job_name", "observed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_flaky_evidence_job_observed_at", table_name="flaky_evidence")
    op.drop_table("flaky_evidence")
