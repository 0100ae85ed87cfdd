"""lambda_runtime/init_gc.py: the init's collector hold and freeze, in this interpreter."""

import gc

import pytest


@pytest.fixture
def init_gc(native_modules):
    """lambda_runtime.init_gc (importing the package needs the runtime's extension modules)."""
    from lambda_runtime import init_gc

    return init_gc


@pytest.fixture(autouse=True)
def pristine_collector():
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.enable() if enabled else gc.disable()


def test_the_init_runs_with_the_young_threshold_raised_and_its_objects_end_frozen(init_gc):
    before = gc.get_threshold()
    seen = {}

    def load():
        seen["threshold"] = gc.get_threshold()
        seen["made"] = made = [object() for _ in range(10)]
        return made

    made = init_gc.run_init(load)
    assert seen["threshold"] == (init_gc.INIT_THRESHOLD,) + before[1:]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() >= 1
    assert not any(o is made for o in gc.get_objects())
    after = [1]
    assert any(o is after for o in gc.get_objects())


def test_the_hold_is_a_cap_cyclic_garbage_beyond_it_is_collected(init_gc):
    collected = []

    def on_collect(phase, info):
        if phase == "stop":
            collected.append(info["collected"])

    def load():
        for _ in range(init_gc.INIT_THRESHOLD + 50_000):
            cycle = []
            cycle.append(cycle)

    gc.callbacks.append(on_collect)
    try:
        init_gc.run_init(load)
    finally:
        gc.callbacks.remove(on_collect)
    assert sum(collected) >= init_gc.INIT_THRESHOLD // 2


def test_a_threshold_the_init_sets_is_kept(init_gc):
    init_gc.run_init(lambda: gc.set_threshold(5000, 20, 20))
    assert gc.get_threshold() == (5000, 20, 20)


def test_gc_disabled_by_the_init_stays_disabled(init_gc):
    init_gc.run_init(gc.disable)
    assert not gc.isenabled()


def test_an_init_error_propagates_with_the_threshold_restored(init_gc):
    before = gc.get_threshold()

    def load():
        raise ValueError("init failed")

    with pytest.raises(ValueError, match="init failed"):
        init_gc.run_init(load)
    assert gc.get_threshold() == before
