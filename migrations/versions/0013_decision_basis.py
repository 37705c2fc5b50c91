"""decision basis: exemptions and "no declaration required" keep what they were decided on

Revision ID: 0013_decision_basis
Revises: 0012_check_stages
Create Date: 2026-12-01 22:00:00

An exemption and a "no declaration required" record the values they were decided on
(value, counterparty, procedure, kind of contract, unit); changing any of them afterwards
voids the decision. Decisions made before this revision get the record's values of today
as their basis: the best there is, and what they were last seen to hold for.
"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_decision_basis'
down_revision = '0012_check_stages'
branch_labels = None
depends_on = None

BASIS = ("value", "counterparty_id", "procedure", "contract_kind", "org_unit_id")


def _basis(row) -> str:
    return json.dumps({name: None if row[name] is None else str(row[name]) if name == "value"
                       else row[name] for name in BASIS}, sort_keys=True)


def upgrade():
    with op.batch_alter_table('agreements') as batch:
        batch.add_column(sa.Column('exemption_basis', sa.Text(), nullable=True))
        batch.add_column(sa.Column('exemption_voided_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('declarations') as batch:
        batch.add_column(sa.Column('decided_basis', sa.Text(), nullable=True))
    bind = op.get_bind()
    columns = ", ".join(BASIS)
    for row in bind.execute(sa.text(
            f"SELECT id, {columns} FROM agreements WHERE exemption_approved_at IS NOT NULL")
            ).mappings():
        bind.execute(sa.text("UPDATE agreements SET exemption_basis = :basis WHERE id = :id"),
                     {"basis": _basis(row), "id": row["id"]})
    for row in bind.execute(sa.text(
            f"SELECT d.id AS declaration_id, {', '.join('a.' + c for c in BASIS)} "
            "FROM declarations d JOIN agreements a ON a.id = d.agreement_id "
            "WHERE d.state = 'not_required'")).mappings():
        bind.execute(sa.text("UPDATE declarations SET decided_basis = :basis WHERE id = :id"),
                     {"basis": _basis(row), "id": row["declaration_id"]})


def downgrade():
    op.execute("UPDATE declarations SET state = 'not_required' WHERE state = 'voided'")
    with op.batch_alter_table('declarations') as batch:
        batch.drop_column('decided_basis')
    with op.batch_alter_table('agreements') as batch:
        batch.drop_column('exemption_voided_at')
        batch.drop_column('exemption_basis')
