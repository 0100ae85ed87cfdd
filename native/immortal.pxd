"""The init's heap made immortal before the Managed-Instances fork: what keeps the workers'
reference counting from copying the pages they share.

With AWS_LAMBDA_MAX_CONCURRENCY=N the supervisor forks N workers that share the init's heap
copy-on-write (lambda_runtime/concurrency.py). Every Py_INCREF/Py_DECREF a worker does on an
object the init made (a module global read, a class instantiated, a constant loaded) writes
that object's reference count, and the kernel copies the whole 4 KiB page for it: with
boto3, ~7 MiB of the shared heap per worker, most pages differing from the supervisor's in
0-3 words. CPython 3.12 and 3.13 (64-bit, with the GIL) treat an object whose reference
count has its low 32 bits all set as immortal (Include/object.h: Py_INCREF saturates and
does not store, Py_DECREF tests the sign bit and returns): immortalize_heap() sets that
count on the objects the init left alive, so the workers only read them. On the way it
writes what a worker's first use would otherwise write into those objects: a string's
cached hash, a class's method-cache version tag, a dict's keys version (which the
specializing interpreter asks for: CPython's own function, linked where libpython is
static, as in the bootstrap).

The trade-off: an immortal object is never freed, so an init object the handler drops in a
worker stays allocated (its memory was shared with the supervisor's copy and is not
returned to the system either way), and sys.getrefcount() of one is 4294967295. Not made
immortal, because dropping the last reference to them must still do something:
  * objects whose type has a finalizer (tp_finalize, tp_del, __del__): files, sockets,
    generators, coroutines, a class with __del__ - they must still be finalized;
  * weak references (a dropped one must leave its referent's list, or its callback would
    still run when the referent dies) and objects a weak reference with a callback points
    at (WeakValueDictionary values, WeakSet members, weakref.finalize targets, logging's
    handlers: the callback must run when the program drops them);
  * memoryviews and pickle.PickleBuffers: while one is alive, the object it views stays
    exported (a bytearray could not be resized again);
  * objects of the types in `resource_types` (the runtime's Connection, mmap.mmap,
    select.epoll, sqlite3's connections, multiprocessing's semaphores): their deallocation
    closes a file descriptor or a handle and they have no finalizer.
Objects already immortal (None, small ints, interned strings, Nuitka's constants) are left
as they are. What only a skipped object refers to is not reached through it. Not told apart:
an extension type whose deallocation releases something else than memory and that has no
finalizer (a Cython `cdef class` closing a descriptor in `__dealloc__`: give it a `__del__`,
or list it above), and code that reads reference counts (numpy's `ndarray.resize()` refuses
an array whose count is not 1 or 2: pass refcheck=False).

fill_object_pools() then takes every free block of the pymalloc pools in use (each size
class's, up to the first fresh pool; a few hundred KiB for boto3, never given back), so a
worker's new small objects go to fresh pools of its own instead of into the holes between
the init's objects, where each one copies a shared page.

Compiled only for CPython 3.12/3.13 with the GIL on a 64-bit build: 3.11 has no immortal
objects (there the count is an ordinary count that would overflow), the free-threaded build
keeps its counts in other fields, and 3.14 changed the field's layout (ob_flags);
elsewhere both functions do nothing and return -1.
"""

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED) \\
        && SIZEOF_VOID_P == 8
    #define IMMORTAL_HEAP_SUPPORTED 1

    /* CPython's own, not in its C API (pycore_dict.h): linked where libpython is static, as in
       the bootstrap; a weak reference elsewhere (a shared libpython does not export it). */
    extern uint32_t _PyDictKeys_GetVersionForCurrentState(PyInterpreterState *, PyDictKeysObject *)
        __attribute__((weak));

    typedef struct {
        PyObject **stack;          /* untracked objects made immortal whose referents are still to visit */
        Py_ssize_t depth, room;
        PyObject *del_name;        /* "__del__" */
        PyObject *resource_types;  /* tuple of types, see the module docstring */
        Py_ssize_t count;
        int failed;
    } immortal_walk;

    static int immortal_has_callback_weakref(PyObject *op) {
        Py_ssize_t offset = Py_TYPE(op)->tp_weaklistoffset;
        PyWeakReference *ref;
        if (offset == 0)
            return 0;
        /* op is not a static builtin type (those are immortal already, never asked): its
           list is at the offset (a negative one for a managed list, before the object) */
        for (ref = *(PyWeakReference **)((char *)op + offset); ref != NULL; ref = ref->wr_next)
            if (ref->wr_callback != NULL)
                return 1;
        return 0;
    }

    static int immortal_eligible(immortal_walk *walk, PyObject *op) {
        PyTypeObject *type = Py_TYPE(op);
        Py_ssize_t i, n;
        if (_Py_IsImmortal(op))
            return 0;
        if (type->tp_finalize != NULL || type->tp_del != NULL)
            return 0;
        if ((type->tp_flags & Py_TPFLAGS_HEAPTYPE) && _PyType_Lookup(type, walk->del_name) != NULL)
            return 0;
        if (PyWeakref_Check(op) || PyMemoryView_Check(op) || Py_IS_TYPE(op, &PyPickleBuffer_Type)
                || immortal_has_callback_weakref(op))
            return 0;
        n = PyTuple_GET_SIZE(walk->resource_types);
        for (i = 0; i < n; i++)
            if (PyType_IsSubtype(type, (PyTypeObject *)PyTuple_GET_ITEM(walk->resource_types, i)))
                return 0;
        return 1;
    }

    static void immortal_set(immortal_walk *walk, PyObject *op) {
        op->ob_refcnt = _Py_IMMORTAL_REFCNT;
        walk->count++;
        /* Written by a worker's first dict lookup or attribute lookup otherwise (a str's hash
           cannot fail; a type that cannot have a tag is left without). */
        if (PyUnicode_CheckExact(op))
            (void)PyObject_Hash(op);
        else if (PyType_Check(op))
            (void)PyUnstable_Type_AssignVersionTag((PyTypeObject *)op);
        else if (PyDict_Check(op) && _PyDictKeys_GetVersionForCurrentState != NULL)
            (void)_PyDictKeys_GetVersionForCurrentState(PyInterpreterState_Get(), ((PyDictObject *)op)->ma_keys);
    }

    static int immortal_push(immortal_walk *walk, PyObject *op) {
        if (walk->depth == walk->room) {
            Py_ssize_t room = walk->room ? walk->room * 2 : 1024;
            PyObject **stack = (PyObject **)PyMem_RawRealloc(walk->stack, room * sizeof(PyObject *));
            if (stack == NULL) {
                walk->failed = 1;
                return -1;
            }
            walk->stack = stack;
            walk->room = room;
        }
        walk->stack[walk->depth++] = op;
        return 0;
    }

    /* A referent of an object being made immortal. A tracked one is visited by the walk
       over the collector's lists itself; an untracked one (a string, an int, a tuple or
       dict of such, a code object) is reached only this way. */
    static int immortal_visit_referent(PyObject *op, void *arg) {
        immortal_walk *walk = (immortal_walk *)arg;
        if (op == NULL || PyObject_GC_IsTracked(op) || !immortal_eligible(walk, op))
            return 0;
        immortal_set(walk, op);
        return immortal_push(walk, op);
    }

    /* op's referents: its traverse function's, and a code object's parts (code objects are
       not GC objects: they have none). */
    static int immortal_referents(immortal_walk *walk, PyObject *op) {
        PyTypeObject *type = Py_TYPE(op);
        if (PyCode_Check(op)) {
            PyCodeObject *code = (PyCodeObject *)op;
            PyObject *parts[] = {code->co_consts, code->co_names, code->co_exceptiontable,
                                 code->co_localsplusnames, code->co_localspluskinds, code->co_filename,
                                 code->co_name, code->co_qualname, code->co_linetable};
            size_t i;
            for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
                if (immortal_visit_referent(parts[i], walk) < 0)
                    return -1;
            return 0;
        }
        /* PyObject_IS_GC, not the type's flag: a static type object is of a GC type, but
           not a GC object (tp_is_gc), and 3.12's type_traverse aborts on one */
        if (PyObject_IS_GC(op) && type->tp_traverse != NULL)
            return type->tp_traverse(op, immortal_visit_referent, walk);
        return 0;
    }

    /* PyUnstable_GC_VisitObjects' callback: one object of the collector's lists (1: go on). */
    static int immortal_visit_tracked(PyObject *op, void *arg) {
        immortal_walk *walk = (immortal_walk *)arg;
        if (!immortal_eligible(walk, op))
            return 1;
        immortal_set(walk, op);
        if (immortal_referents(walk, op) < 0)
            return 0;
        while (walk->depth > 0) {
            if (immortal_referents(walk, walk->stack[--walk->depth]) < 0)
                return 0;
        }
        return 1;
    }

    /* Makes immortal every object in the collector's generations (not the frozen one) and
       what they refer to. Returns how many; -2 out of memory (those made immortal so far
       stay so). Nothing in the walk allocates a Python object. */
    static Py_ssize_t immortalize_heap(PyObject *resource_types) {
        immortal_walk walk = {NULL, 0, 0, NULL, resource_types, 0, 0};
        walk.del_name = PyUnicode_InternFromString("__del__");
        if (walk.del_name == NULL) {
            PyErr_Clear();
            return -2;
        }
        PyUnstable_GC_VisitObjects(immortal_visit_tracked, &walk);
        PyMem_RawFree(walk.stack);
        Py_DECREF(walk.del_name);
        return walk.failed ? -2 : walk.count;
    }

    /* pymalloc on 64-bit CPython 3.10+: 16 KiB pools (POOL_BITS 14, the radix tree's), each
       with a 48-byte header, then its blocks in address order; size classes of 16 bytes up
       to 512. A pool fresh from its arena hands out its first two blocks at the header's
       end, one after the other. */
    #define IMMORTAL_POOL_SIZE 16384
    #define IMMORTAL_POOL_OVERHEAD 48
    #define IMMORTAL_FILL_MAX (4 << 20)  /* when the allocator is not pymalloc after all */

    static Py_ssize_t fill_object_pools(void) {
        PyMemAllocatorEx obj, raw;
        Py_ssize_t taken = 0;
        size_t size;
        PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &obj);
        PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &raw);
        if (obj.malloc == raw.malloc)  /* PYTHONMALLOC=malloc: no pools */
            return 0;
        for (size = 16; size <= 512; size += 16) {
            while (taken < IMMORTAL_FILL_MAX) {
                char *block = (char *)PyObject_Malloc(size);
                if (block == NULL)
                    return taken;
                if (((uintptr_t)block & (IMMORTAL_POOL_SIZE - 1)) == IMMORTAL_POOL_OVERHEAD) {
                    char *next = (char *)PyObject_Malloc(size);
                    if (next == block + size) {  /* a fresh pool: no holes left in this size class */
                        PyObject_Free(next);
                        PyObject_Free(block);
                        break;
                    }
                    if (next != NULL)
                        taken += size;
                }
                taken += size;
            }
        }
        return taken;
    }

    #else
    #define IMMORTAL_HEAP_SUPPORTED 0
    static Py_ssize_t immortalize_heap(PyObject *resource_types) {
        (void)resource_types;
        return -1;
    }
    static Py_ssize_t fill_object_pools(void) {
        return -1;
    }
    #endif
    """
    bint IMMORTAL_HEAP_SUPPORTED
    Py_ssize_t immortalize_heap(tuple resource_types) noexcept
    Py_ssize_t fill_object_pools() noexcept
