"""zone headcounts kept by triggers: a scan reads its zone's count instead of counting the zone

Revision ID: b13abbec73fa
Revises: c882a4da17e9
Create Date: 2026-11-29 06:01:28

The counts of the people inside now are taken from presence here; from then on the triggers keep them.
"""
from alembic import op
import sqlalchemy as sa

from eventreg.checkin.models import ZONE_COUNT_TRIGGERS

# revision identifiers, used by Alembic.
revision = 'b13abbec73fa'
down_revision = 'c882a4da17e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('zone_count',
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('inside', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], name=op.f('fk_zone_count_checkpoint_id_checkpoint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('checkpoint_id', name=op.f('pk_zone_count'))
    )
    op.execute("INSERT INTO zone_count (checkpoint_id, inside) SELECT checkpoint_id, COUNT(*) FROM presence "
               "WHERE checkpoint_id IS NOT NULL GROUP BY checkpoint_id")
    for statement in ZONE_COUNT_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER presence_counts ON presence")
        op.execute("DROP FUNCTION zone_count_follows_presence()")
    else:
        for trigger in ("presence_enters", "presence_moves", "presence_leaves"):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table('zone_count')
