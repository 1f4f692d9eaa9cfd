"""the whole remediation catalog: new action kinds, and each remediation's parameters and result

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("rerun_failed_jobs", "none")
NEW_KINDS = (
    "rerun_failed_jobs",
    "rerun_workflow",
    "rerun_with_debug_logging",
    "clear_cache_and_rerun",
    "open_tracking_issue",
    "dispatch_remediation_workflow",
    "none",
)
# Every column typed action_kind (a string with a CHECK constraint).
ACTION_COLUMNS = (
    ("analyses", "proposed_action"),
    ("gate_decisions", "action"),
    ("approval_requests", "action"),
    ("remediations", "action"),
    ("decision_memories", "action"),
)
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _allow(kinds: Sequence[str]) -> None:
    for table, column in ACTION_COLUMNS:
        # The naming convention makes "action_kind" the constraint ck_<table>_action_kind.
        name = "action_kind"
        allowed = ", ".join(f"'{kind}'" for kind in kinds)
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, sa.text(f"{column} IN ({allowed})"))


def upgrade() -> None:
    _allow(NEW_KINDS)
    with op.batch_alter_table("remediations") as batch:
        batch.add_column(sa.Column("parameters", Json, server_default="{}", nullable=False))
        batch.add_column(sa.Column("result", Json, server_default="{}", nullable=False))
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("parameters", Json, server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("parameters")
    with op.batch_alter_table("remediations") as batch:
        batch.drop_column("result")
        batch.drop_column("parameters")
    # What the old schema cannot hold: remediations and memories of the new kinds go; the
    # analyses, gate decisions and approvals that named one say `none`.
    old = ", ".join(f"'{kind}'" for kind in OLD_KINDS)
    for table in ("remediations", "decision_memories"):
        op.execute(f"DELETE FROM {table} WHERE action NOT IN ({old})")  # noqa: S608 (constants)
    for table, column in ACTION_COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = 'none' WHERE {column} NOT IN ({old})")  # noqa: S608
    _allow(OLD_KINDS)
