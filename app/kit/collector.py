"""Python's garbage collector, set for a serving process.

CPython runs a young collection after every 700 tracked objects allocated and not yet freed,
and now and then a full one, which walks every object the process holds. A served request
frees nearly all it makes by reference counting, so these collections find little: measured
in process, they took about 0.2 ms of a list page's 4 to 5 ms of CPU, half of it in full
collections walking the 126,000 objects of the imported modules, the app and its statements.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Tracked objects allocated and not yet freed before a young collection: a cycle that a
# request leaves (an exception and its traceback) waits up to a thousand requests longer.
YOUNG_COLLECTION_AFTER = 10_000


@contextmanager
def tuned_for_serving() -> Iterator[None]:
    """For the app's life, what start-up made is left out of full collections (frozen) and
    young collections run less often; as it was again at shutdown."""
    thresholds = gc.get_threshold()
    # No collection first: start-up leaves about a hundred objects of garbage, and a full
    # collection to free them would take 70 ms at every start (and each test's).
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
