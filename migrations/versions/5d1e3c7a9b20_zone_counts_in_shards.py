"""zone headcounts in shards: scans of different people into one zone no longer wait for each other

Revision ID: 5d1e3c7a9b20
Revises: b13abbec73fa
Create Date: 2026-12-04 15:00:00

A zone's count was one row, locked on PostgreSQL by each scan that changed it until that scan committed.
It becomes ZONE_COUNT_SHARDS rows, one per share of the people (registration id modulo the shards),
counted again here from presence; the triggers are replaced by ones that keep the shards.
"""
import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa

from eventreg.checkin.models import ZONE_COUNT_SHARDS, ZONE_COUNT_TRIGGERS

# revision identifiers, used by Alembic.
revision = '5d1e3c7a9b20'
down_revision = 'b13abbec73fa'
branch_labels = None
depends_on = None


def _one_row_per_zone():
    """Migration b13abbec73fa, whose upgrade makes the one-row counters and their triggers and whose
    downgrade drops them: this one undoes it, then makes the shards (and the reverse)."""
    path = Path(__file__).with_name("b13abbec73fa_zone_headcounts_kept_by_triggers.py")
    spec = importlib.util.spec_from_file_location("zone_counts_one_row", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    _one_row_per_zone().downgrade()
    op.create_table('zone_count',
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('inside', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], name=op.f('fk_zone_count_checkpoint_id_checkpoint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('checkpoint_id', 'shard', name=op.f('pk_zone_count'))
    )
    op.execute(f"INSERT INTO zone_count (checkpoint_id, shard, inside) "
               f"SELECT checkpoint_id, registration_id % {ZONE_COUNT_SHARDS}, COUNT(*) FROM presence "
               f"WHERE checkpoint_id IS NOT NULL GROUP BY checkpoint_id, registration_id % {ZONE_COUNT_SHARDS}")
    for statement in ZONE_COUNT_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    one_row = _one_row_per_zone()
    one_row.downgrade()  # the same triggers' names and the same table, now sharded
    one_row.upgrade()
