"""outbox messages written when sent: subject and bodies are made at sending time

Existing messages keep their text; the new columns get '' and {} for them.

Revision ID: b03a662b85eb
Revises: 1cc51e61e540
Create Date: 2026-11-28 23:38:40.046126

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b03a662b85eb'
down_revision = '1cc51e61e540'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_url', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.alter_column('subject',
               existing_type=sa.VARCHAR(length=300),
               nullable=True)
        batch_op.alter_column('body_text',
               existing_type=sa.TEXT(),
               nullable=True)
    # The defaults were for the rows already there; new rows get theirs from the application.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('base_url', server_default=None)
        batch_op.alter_column('details', server_default=None)


def downgrade():
    op.execute("UPDATE outbox_message SET subject = '' WHERE subject IS NULL")
    op.execute("UPDATE outbox_message SET body_text = '' WHERE body_text IS NULL")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('body_text',
               existing_type=sa.TEXT(),
               nullable=False)
        batch_op.alter_column('subject',
               existing_type=sa.VARCHAR(length=300),
               nullable=False)
        batch_op.drop_column('details')
        batch_op.drop_column('base_url')
