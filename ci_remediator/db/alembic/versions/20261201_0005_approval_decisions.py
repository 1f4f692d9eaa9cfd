"""approval decisions: how and on whose behalf a request was decided

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("decided_via", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("on_behalf_of", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("decision_reason")
        batch.drop_column("on_behalf_of")
        batch.drop_column("decided_via")
