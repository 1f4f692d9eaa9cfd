"""gate inputs on failures: head repository, workflow path, deployment environments

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("failures") as batch:
        batch.add_column(sa.Column("head_repository", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("workflow_path", sa.String(length=300), nullable=True))
        batch.add_column(
            sa.Column("deployment_environments", json_type, server_default="[]", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("failures") as batch:
        batch.drop_column("deployment_environments")
        batch.drop_column("workflow_path")
        batch.drop_column("head_repository")
