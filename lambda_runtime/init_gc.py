"""The init runs with the cyclic garbage collector held back, and what it made is frozen.

An init imports hundreds of modules: boto3's makes ~10^5 container objects (classes,
functions, dicts) that live as long as the process. CPython's collector starts a young
collection every 700 new containers and a full one each time the heap has grown by a
quarter, so it walks that growing heap again and again and finds almost nothing: 35 ms of
boto3's 200 ms init under CPython, 12% of the bootstrap's start-up instructions
(bench/real_functions.py, callgrind). So, for the init only:

- the young generation's threshold is raised to INIT_THRESHOLD: a cap, not a switch-off,
  so an init that makes cyclic garbage by the million is still collected;
- after it, gc.freeze() moves every object the init made to the permanent generation,
  which no later collection walks (the pattern CPython's gc docs give for pre-fork
  servers: a worker's collections then never write into the shared init heap either).

The price: reference cycles the init left as garbage are never reclaimed (boto3's init:
825 objects; `gc.unfreeze()` hands them back to the collector). The user's own gc calls
win: a threshold set during the init is kept, and gc.disable() is never undone.
"""

import gc

INIT_THRESHOLD = 1_000_000


def run_init(load):
    """load() with the collector held back; returns its result, freezes the objects it made
    (and those of the runtime's start-up, which the launcher ran with the collector off:
    Nuitka plugin (10))."""
    gc.enable()
    threshold = gc.get_threshold()
    held = (INIT_THRESHOLD,) + threshold[1:]
    gc.set_threshold(*held)
    try:
        return load()
    finally:
        if gc.get_threshold() == held:
            gc.set_threshold(*threshold)
        gc.freeze()
