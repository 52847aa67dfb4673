"""The garbage collector is set for serving while the app runs, and as it was afterwards."""

import gc
from collections.abc import Callable

import pytest

from app.config import Settings
from app.kit.collector import YOUNG_COLLECTION_AFTER, tuned_for_serving
from tests.helpers.serving import serving


async def test_a_served_app_freezes_what_start_up_made_and_collects_less_often(
    fresh_database: Callable[[], Settings],
) -> None:
    before = gc.get_threshold()
    async with serving(fresh_database()) as (client, _database):
        assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, *before[1:])
        # The modules, the app and its statements: well over the ten thousand objects of
        # a bare interpreter.
        assert gc.get_freeze_count() > 50_000
        assert (await client.get("/books")).status_code == 200
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def fail_while_tuned() -> None:
    with tuned_for_serving():
        assert gc.get_freeze_count() > 0
        raise RuntimeError("the app failed")


def test_the_collector_is_as_it_was_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError, match="the app failed"):
        fail_while_tuned()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
