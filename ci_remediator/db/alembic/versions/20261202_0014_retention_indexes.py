"""retention: index the foreign key columns a purged failure or approval is looked up by

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:00:00

Deleting a failure makes Postgres run, per deleted row, the ON DELETE action of every foreign
key that references it. Without an index each of those is a sequential scan: measured on
120,000 failures and 360,000 metric samples, one batch of 500 deleted failures took 15 s
without these indexes and 60 ms with them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): the SET NULL references of failures and approval requests that no index
# led with yet (the CASCADE ones are unique or lead an index already).
INDEXED = (
    ("failures", "burst_of"),
    ("metric_samples", "failure_id"),
    ("flaky_evidence", "failure_id"),
    ("breaker_trips", "failure_id"),
    ("decision_memories", "approval_id"),
)


def upgrade() -> None:
    for table, column in INDEXED:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def downgrade() -> None:
    for table, column in reversed(INDEXED):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
