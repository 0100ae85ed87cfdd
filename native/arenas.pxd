"""Freed object arenas kept for reuse: the invocation loop's answer to a page fault per 4 KiB of
every large event's objects.

CPython's small-object allocator takes its memory in arenas (1 MiB in 3.11) and unmaps an
arena as soon as its last object is freed. A 1 MiB event decodes into about an arena of
dicts, lists and strings that all die with the invocation, so every invocation mapped a fresh
arena and faulted its pages in again (252 faults per records event). keep_freed_arenas()
puts a thin allocator in front of CPython's (PyObject_SetArenaAllocator): a freed arena is
kept, up to ARENA_CACHE_MAX of them, and handed out again before a new one is mapped;
past that they go back to the system as before, so an outlier's memory is returned.
"""

cdef extern from *:
    """
    #define ARENA_CACHE_MAX 4

    static PyObjectArenaAllocator arena_cache_next;   /* the allocator it fronts */
    static void *arena_cache_address[ARENA_CACHE_MAX];
    static size_t arena_cache_size[ARENA_CACHE_MAX];
    static int arena_cache_count = -1;                 /* -1: not installed */

    static void *arena_cache_alloc(void *ctx, size_t size) {
        int i;
        for (i = arena_cache_count - 1; i >= 0; i--) {  /* the last freed first: its pages are warm */
            if (arena_cache_size[i] == size) {
                void *address = arena_cache_address[i];
                arena_cache_count--;
                arena_cache_address[i] = arena_cache_address[arena_cache_count];
                arena_cache_size[i] = arena_cache_size[arena_cache_count];
                return address;
            }
        }
        return arena_cache_next.alloc(arena_cache_next.ctx, size);
    }

    static void arena_cache_free(void *ctx, void *address, size_t size) {
        if (arena_cache_count < ARENA_CACHE_MAX) {
            arena_cache_address[arena_cache_count] = address;
            arena_cache_size[arena_cache_count] = size;
            arena_cache_count++;
            return;
        }
        arena_cache_next.free(arena_cache_next.ctx, address, size);
    }

    /* Arenas freed from now on are kept (any allocator's: they are all of the one it fronts). */
    static void keep_freed_arenas(void) {
        PyObjectArenaAllocator mine = {NULL, arena_cache_alloc, arena_cache_free};
        if (arena_cache_count >= 0)
            return;
        PyObject_GetArenaAllocator(&arena_cache_next);
        arena_cache_count = 0;
        PyObject_SetArenaAllocator(&mine);
    }

    static int arenas_kept(void) {
        return arena_cache_count < 0 ? 0 : arena_cache_count;
    }
    """
    void keep_freed_arenas() noexcept
    int arenas_kept() noexcept
