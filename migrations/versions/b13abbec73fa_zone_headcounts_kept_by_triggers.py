"""zone headcounts kept by triggers: a scan reads its zone's count instead of counting the zone

Revision ID: b13abbec73fa
Revises: c882a4da17e9
Create Date: 2026-11-29 06:01:28

The counts of the people inside now are taken from presence here; from then on the triggers keep them.
"""
from alembic import op
import sqlalchemy as sa


# The triggers as they were made here (one counter row per zone); 5d1e3c7a9b20 replaces them.
TRIGGERS = {
    "postgresql": [
        """
        CREATE FUNCTION zone_count_follows_presence() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            leaving integer := CASE WHEN TG_OP <> 'INSERT' THEN OLD.checkpoint_id END;
            entering integer := CASE WHEN TG_OP <> 'DELETE' THEN NEW.checkpoint_id END;
        BEGIN
            IF leaving IS DISTINCT FROM entering THEN
                -- Both counters in one statement, in the order of their ids: two people moving
                -- between the same zones in opposite directions lock them in the same order. Leaving
                -- makes no counter (that of a checkpoint being deleted may be gone already).
                INSERT INTO zone_count (checkpoint_id, inside)
                SELECT zone, change FROM (VALUES (leaving, -1), (entering, 1)) AS moves (zone, change)
                WHERE zone IS NOT NULL
                  AND (change = 1 OR EXISTS (SELECT FROM zone_count WHERE checkpoint_id = zone))
                ORDER BY zone
                ON CONFLICT (checkpoint_id) DO UPDATE SET inside = zone_count.inside + EXCLUDED.inside;
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER presence_counts AFTER INSERT OR DELETE OR UPDATE OF checkpoint_id ON presence
        FOR EACH ROW EXECUTE FUNCTION zone_count_follows_presence()
        """,
    ],
    "sqlite": [
        # One writer at a time: no lock order to keep.
        """
        CREATE TRIGGER presence_enters AFTER INSERT ON presence WHEN NEW.checkpoint_id IS NOT NULL BEGIN
            INSERT INTO zone_count (checkpoint_id, inside) VALUES (NEW.checkpoint_id, 1)
            ON CONFLICT (checkpoint_id) DO UPDATE SET inside = inside + 1;
        END
        """,
        """
        CREATE TRIGGER presence_moves AFTER UPDATE OF checkpoint_id ON presence
        WHEN OLD.checkpoint_id IS NOT NEW.checkpoint_id BEGIN
            UPDATE zone_count SET inside = inside - 1 WHERE checkpoint_id = OLD.checkpoint_id;
            INSERT INTO zone_count (checkpoint_id, inside) SELECT NEW.checkpoint_id, 1 WHERE NEW.checkpoint_id IS NOT NULL
            ON CONFLICT (checkpoint_id) DO UPDATE SET inside = inside + 1;
        END
        """,
        """
        CREATE TRIGGER presence_leaves AFTER DELETE ON presence WHEN OLD.checkpoint_id IS NOT NULL BEGIN
            UPDATE zone_count SET inside = inside - 1 WHERE checkpoint_id = OLD.checkpoint_id;
        END
        """,
    ],
}


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
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER presence_counts ON presence")
        op.execute("DROP FUNCTION zone_count_follows_presence()")
    else:
        for trigger in ("presence_enters", "presence_moves", "presence_leaves"):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table('zone_count')
