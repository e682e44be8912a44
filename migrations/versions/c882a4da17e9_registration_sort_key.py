"""registration sort key: lists in Kazakh alphabetical order

Revision ID: c882a4da17e9
Revises: b03a662b85eb
Create Date: 2026-11-28 23:55:00

The key of the people already registered is computed here, with the application's own rule.
"""
from alembic import op
import sqlalchemy as sa

from eventreg.text import collation_key

# revision identifiers, used by Alembic.
revision = 'c882a4da17e9'
down_revision = 'b03a662b85eb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key', sa.String(length=600).with_variant(
            sa.String(length=600, collation='C'), 'postgresql'), nullable=False, server_default=''))
    connection = op.get_bind()
    registration = sa.table('registration', sa.column('id'), sa.column('last_name'), sa.column('first_name'),
                            sa.column('patronymic'), sa.column('sort_key'))
    rows = connection.execute(sa.select(registration.c.id, registration.c.last_name, registration.c.first_name,
                                        registration.c.patronymic)).all()
    for row in rows:
        connection.execute(registration.update().where(registration.c.id == row.id)
                           .values(sort_key=collation_key(row.last_name, row.first_name, row.patronymic)))
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.alter_column('sort_key', server_default=None)
        batch_op.create_index('ix_registration_sort', ['event_id', 'sort_key'], unique=False)


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_sort')
        batch_op.drop_column('sort_key')
