"""A database written before a directory kind existed still verifies: the first version's
databases have no matters table, and their projects table lacks the later columns."""

from __future__ import annotations

from suiji.data.schema import KINDS
from suiji.data.verify import verify_store
from tests.fixtures.audit_world import WORLD_REGISTRY, World


def test_a_database_without_a_newer_kinds_table_verifies(world: World) -> None:
    assert verify_store(world.store, WORLD_REGISTRY).ok
    table = KINDS["matters"].table
    with world.store.conn:
        world.store.conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    report = verify_store(world.store, WORLD_REGISTRY)
    assert report.ok, report.findings


def test_an_edited_row_is_still_caught_beside_a_missing_table(world: World) -> None:
    table = KINDS["matters"].table
    companies = KINDS["companies"].table
    with world.store.conn:
        world.store.conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        world.store.conn.execute(f'UPDATE "{companies}" SET name = name || \'X\' '
                                 f'WHERE rowid = (SELECT MIN(rowid) FROM "{companies}")')
    assert not verify_store(world.store, WORLD_REGISTRY).ok
