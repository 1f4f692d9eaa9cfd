"""poll cursors and disabled credentials

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:23:20.247165
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disabled_credentials",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_disabled_credentials")),
    )
    # The embedded form now keeps its rate-budget counters in process memory.
    op.drop_table("window_counters")
    op.add_column(
        "monitored_repositories",
        sa.Column("deep_scanned_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "monitored_repositories",
        sa.Column("source", sa.String(length=120), server_default="config", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("monitored_repositories", "source")
    op.drop_column("monitored_repositories", "deep_scanned_at")
    op.create_table(
        "window_counters",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", "window_start", name=op.f("pk_window_counters")),
    )
    op.drop_table("disabled_credentials")
