"""Opinions, evaluation steps, notification dispatch columns, supervision list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("opinion", sa.String(20), nullable=True))

    with op.batch_alter_table("notifications") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(30), nullable=False, server_default="status_change")
        )
        batch.add_column(_ts("next_attempt_at"))
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        batch.add_column(_ts("claimed_until"))
        batch.add_column(_ts("delivered_at"))
        batch.create_index("ix_notifications_status_next_attempt_at", ["status", "next_attempt_at"])
        batch.create_index("ix_notifications_channel_channel_user", ["channel", "channel_user"])

    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("step", sa.String(30), nullable=True))
        batch.create_unique_constraint(op.f("uq_evaluations_case_id_step"), ["case_id", "step"])

    op.create_table(
        "supervision_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("deadline", sa.String(30), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        _ts("flagged_at", nullable=False),
        _ts("resolved_at"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_supervision_items_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_items")),
        sa.UniqueConstraint(
            "case_id", "deadline", "due", name=op.f("uq_supervision_items_case_id_deadline_due")
        ),
    )
    op.create_index(op.f("ix_supervision_items_case_id"), "supervision_items", ["case_id"])
    op.create_index(op.f("ix_supervision_items_resolved_at"), "supervision_items", ["resolved_at"])


def downgrade() -> None:
    op.drop_table("supervision_items")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_constraint(op.f("uq_evaluations_case_id_step"), type_="unique")
        batch.drop_column("step")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_channel_channel_user")
        batch.drop_index("ix_notifications_status_next_attempt_at")
        for column in ("delivered_at", "claimed_until", "claimed_by", "next_attempt_at", "kind"):
            batch.drop_column(column)
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("opinion")
