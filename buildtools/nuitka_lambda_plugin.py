"""Nuitka user plugin for the Lambda bootstrap (loaded with --user-plugin=THIS_FILE).

It does fifteen things Nuitka has no option for:

1. Links Cython-generated C modules (runtime.pyx, native/*.pyx, handler .pyx files)
   into the bootstrap as built-in modules: their C files are added to the build and a
   constructor registers each PyInit function with PyImport_AppendInittab before the
   interpreter starts.  The list comes from the environment variable
   LAMBDA_NATIVE_MODULES, "name=path/to/file.c" entries separated by os.pathsep.
2. Stops Nuitka importing `inspect` at start-up.  Nuitka's main() calls
   patchInspectModule(), which imports inspect, ast, dis, re, enum, tokenize... (~40
   modules, ~12 ms) so that compiled generators look right to inspect.  We remove that
   call from the copied MainProgram.c and expose the patch as `_lambda_nuitka.patch_inspect()`;
   lambda_runtime.import_hooks runs it the moment the program imports inspect itself.
3. Trims what Nuitka forces into every standalone build: all encodings (the CJK codecs
   pull in six extension modules, ~1.4 MB), locale, inspect, and the whole non-excluded
   standard library. We keep common encodings; other stdlib modules are compiled in when
   the program imports them (as for any package).
4. Replaces CPython 3.11's and 3.12's deep-frozen modules (deepfreeze.o of a static
   libpython: 880 KB of code objects that _Py_Deepfreeze_Init writes to at start-up, so
   ~800 KB of dirty memory in every process) with marshalled bytecode of the same modules,
   unmarshalled only when imported -- what a CPython built without deepfreeze does. See
   frozen_modules.py.

5. Decodes ASCII command-line arguments without loading every locale category first.

6. Starts without locale data: Nuitka decodes the binary's path under the environment's
   locale, then C.UTF-8, and aborts if neither loads -- which is what happens in a bare
   root with Lambda's LANG=en_US.UTF-8. The patched helper decodes UTF-8 itself instead.

7. Ships libz.so.1 with the extension modules that need it (Nuitka assumes every Linux has
   zlib; a provided.al2023 sandbox need not).

8. Keeps the bytecode table out of the resident set: the pages of the marshalled modules
   (botocore & co.: ~9 MB of the binary) are dropped after start-up, and a module's
   marshalled code is read from the binary's file with pread() instead of through the
   mapping, so its pages never become resident (-6 MiB RSS for a boto3 function, and no
   page faults or madvise() per module: ~5% of a Powertools function's init).

9. Builds for the target build.py resolved (buildtools/targets.py, passed in the
   environment): for arm64 on x86_64 it points Nuitka at the aarch64 CPython's headers,
   static libpython, built-in modules and extension modules (nuitka_cross.py).

10. Keeps the cyclic collector off from the interpreter's initialisation to the handler's
   import: the ~5,000 objects of the runtime's start-up live as long as the process, and the
   ~11 young-generation collections that walked them were ~4% of a cold start.
   lambda_runtime.init_gc turns the collector on for the handler's import (held back) and
   freezes them with the init's objects (gc.freeze()).

11. Takes importlib's bootstrap module as `_frozen_importlib`, the name the interpreter
   started it under, where Nuitka's loader asked for `importlib._bootstrap`: that imported
   the `importlib` package and with it `warnings` (~30 KB of bytecode) in every start-up,
   which plain CPython does not.

12. Maps the start-up's first object arena with its pages (MAP_POPULATE): the ~250 page
   faults of filling it one page at a time were ~2% of a cold start.

13. Finds a module in the binary's module table through a hash index instead of Nuitka's
    scan, which copies and compares every entry's name (~1,700 entries for boto3) on each
    import and each failed lookup: 3.4% of a boto3 function's start-up instructions.

14. Defers module-level imports of some standard-library modules in third-party packages
    until first use, where the importer cannot tell (buildtools/deferred_imports.py): the
    source is rewritten as Nuitka reads it, and the module is still carried.

15. Releases a bytecode module's code object once the module ran. Nuitka's loader keeps a
    reference to what it unmarshalled, so every module's top-level code, and with it its
    class bodies and their constants, would stay alive for the whole process (2.3 MiB of a
    boto3 function's RSS); CPython frees it.

(2), (3), (5), (6), (8), (9), (10), (11), (12), (13) and (15) patch Nuitka internals, so the plugin refuses any Nuitka but the pinned one;
changing the pin means re-checking these patches (see README, "Build internals").
"""

import os
import sys

from nuitka.plugins.PluginBase import NuitkaPluginBase

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import deferred_imports  # noqa: E402  (buildtools/deferred_imports.py, beside this file)
import frozen_modules  # noqa: E402  (buildtools/frozen_modules.py, beside this file)
import nuitka_cross  # noqa: E402
from buildtools import targets  # noqa: E402

PINNED_NUITKA = "4.3.3"

# Top-level names of the third-party packages whose module-level stdlib imports may be
# deferred (14): set by build.py, separated by os.pathsep.
DEFERRED_IMPORT_PACKAGES = "LAMBDA_DEFERRED_IMPORT_PACKAGES"

# (12) CPython maps its object arenas (1 MiB) empty, and the start-up fills its first one
# page by page: ~256 page faults. Mapped with MAP_POPULATE, its pages come in one system
# call; the start-up uses all of that arena anyway, so the resident set is the same.
_POPULATED_ARENA = r"""
/* lambda plugin (12): the first object arena mapped populated. */
#include <sys/mman.h>
static PyObjectArenaAllocator lambda_arena_default;
static int lambda_arenas_mapped;

static void *lambdaArenaAlloc(void *ctx, size_t size) {
    if (lambda_arenas_mapped++ == 0) {
        void *address = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        return address == MAP_FAILED ? NULL : address;
    }
    return lambda_arena_default.alloc(lambda_arena_default.ctx, size);
}

static void lambdaArenaFree(void *ctx, void *address, size_t size) {
    lambda_arena_default.free(lambda_arena_default.ctx, address, size);
}

static void lambdaPopulateFirstArena(void) {
    PyObjectArenaAllocator mine = {NULL, lambdaArenaAlloc, lambdaArenaFree};
    PyObject_GetArenaAllocator(&lambda_arena_default);
    PyObject_SetArenaAllocator(&mine);
}

"""

# (text, replacement) in Nuitka's MainProgram.c; each text must occur exactly once.
MAIN_PROGRAM_PATCHES = [
    # (2) main() imports inspect (~40 modules) for this patch: deferred to the program's
    # first import of inspect (_lambda_nuitka.patch_inspect, lambda_runtime.import_hooks).
    ("    patchInspectModule(tstate);\n", "    /* inspect patch deferred */\n"),
    # (5) argv is decoded under setlocale(LC_ALL, ""), which loads every locale category
    # from disk (~25 files); ASCII arguments (Lambda starts bootstrap with none) decode the
    # same in the C locale.
    ("    setlocale(LC_ALL, \"\");\n\n    for (int i = 0; i < argc; i++) {\n",
     "    int ascii_argv = 1;\n"
     "    for (int i = 0; i < argc; i++) {\n"
     "        for (const char *c = argv[i]; *c; c++) {\n"
     "            ascii_argv &= (unsigned char)*c < 0x80;\n"
     "        }\n"
     "    }\n"
     "    if (!ascii_argv) {\n"
     "        setlocale(LC_ALL, \"\");\n"
     "    }\n\n"
     "    for (int i = 0; i < argc; i++) {\n"),
    # (12) the start-up's first object arena mapped with its pages.
    ("static void Nuitka_Py_Initialize(void) {\n",
     _POPULATED_ARENA + "static void Nuitka_Py_Initialize(void) {\n    lambdaPopulateFirstArena();\n"),
    # (10) the collector off until lambda_runtime.init_gc turns it on.
    ("    status = Py_InitializeFromConfig(&config);\n",
     "    status = Py_InitializeFromConfig(&config);\n"
     "    if (status._type == 0) {\n"
     "        PyGC_Disable();\n"
     "    }\n"),
]

# A UTF-8 decoder for (6), put in front of Nuitka's appendStringSafeW.
_UTF8_DECODER = r"""
/* lambda plugin: decodes UTF-8 without locale data (no LC_CTYPE files in the root). */
static bool lambdaDecodeUtf8(wchar_t *target, char const *source, size_t buffer_size) {
    unsigned char const *s = (unsigned char const *)source;
    size_t n = 0;
    while (*s) {
        unsigned int c = *s++, extra = 0;
        if (c >= 0xf0 && c < 0xf8) { c &= 0x07; extra = 3; }
        else if (c >= 0xe0) { c &= 0x0f; extra = 2; }
        else if (c >= 0xc0) { c &= 0x1f; extra = 1; }
        else if (c >= 0x80) { return false; }
        while (extra--) {
            if ((*s & 0xc0) != 0x80) { return false; }
            c = (c << 6) | (*s++ & 0x3f);
        }
        if (n + 1 >= buffer_size) { return false; }
        target[n++] = (wchar_t)c;
    }
    target[n] = 0;
    return true;
}

"""

# (8) Bytecode modules are marshalled code in the binary's read-only data (botocore & co.:
# ~9 MB). Registering them touches one header per module, which with the kernel's
# fault-around maps nearly all of it into every process, and a module's pages (and the
# fault-around's neighbours) would stay resident after their one use. So the table's pages
# are dropped once it is registered (read-only file pages, read again from the binary if
# touched later; only pages wholly inside the table are dropped), and a module's code is
# read with pread() from the binary's file into a buffer freed after unmarshalling. The
# file is /proc/self/exe, opened once and checked to hold the table's bytes; before each
# read its fd is checked to still be that file (a handler may close fds). Where any of
# that fails the code is read through the mapping, whose pages are dropped afterwards.
_DROP_PAGES = r"""
/* lambda plugin (8): drops the resident pages of the bytecode table (read-only file data,
 * re-read from the binary when touched again). */
#include <sys/mman.h>
#include <unistd.h>
static uintptr_t lambda_table_low, lambda_table_high; /* whole pages inside the table */
static void lambdaOpenExecutable(char const *low, char const *high);

static void lambdaDropBytecodePages(void) {
    if (lambda_table_high > lambda_table_low) {
        madvise((void *)lambda_table_low, lambda_table_high - lambda_table_low, MADV_DONTNEED);
    }
}

static void lambdaFindBytecodeTable(struct Nuitka_MetaPathBasedLoaderEntry **entries, int count) {
    char const *low = NULL, *high = NULL;
    for (int i = 0; i < count; i++) {
        if ((entries[i]->flags & NUITKA_BYTECODE_FLAG) != 0) {
            char const *start = _bytecode_data[entries[i]->bytecode_index];
            if (low == NULL || start < low) { low = start; }
            if (start + entries[i]->bytecode_size > high) { high = start + entries[i]->bytecode_size; }
        }
    }
    if (low != NULL) {
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        lambda_table_low = ((uintptr_t)low + page - 1) & ~(page - 1);
        lambda_table_high = (uintptr_t)high & ~(page - 1);
        lambdaOpenExecutable(low, high);
    }
}

"""

_PREAD_BYTECODE = r"""
/* lambda plugin (8): marshalled code read from the binary's file, not through its mapping. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
static int lambda_exe_fd = -1;          /* /proc/self/exe, or -1: read through the mapping */
static dev_t lambda_exe_dev;
static ino_t lambda_exe_ino;
static uintptr_t lambda_exe_delta;      /* an address in the table minus its file offset */

struct lambda_segment_search { uintptr_t low, high; bool found; };

/* Called for the program itself only (the first object; returning 1 ends the iteration). */
static int lambdaFindTableSegment(struct dl_phdr_info *info, size_t size, void *data) {
    struct lambda_segment_search *search = (struct lambda_segment_search *)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        ElfW(Phdr) const *segment = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + segment->p_vaddr;
        if (segment->p_type == PT_LOAD && search->low >= start && search->high <= start + segment->p_filesz) {
            lambda_exe_delta = start - segment->p_offset;
            search->found = true;
        }
    }
    return 1;
}

static bool lambdaPreadAll(int fd, char *buffer, size_t size, off_t offset) {
    while (size > 0) {
        ssize_t got = pread(fd, buffer, size, offset);
        if (got <= 0) {
            if (got < 0 && errno == EINTR) { continue; }
            return false;
        }
        buffer += got; size -= (size_t)got; offset += got;
    }
    return true;
}

static void lambdaOpenExecutable(char const *low, char const *high) {
    struct lambda_segment_search search = {(uintptr_t)low, (uintptr_t)high, false};
    dl_iterate_phdr(lambdaFindTableSegment, &search);
    if (!search.found) { return; }
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) { return; }
    struct stat status;
    char head[64];
    size_t compared = (size_t)(high - low) < sizeof(head) ? (size_t)(high - low) : sizeof(head);
    if (fstat(fd, &status) == 0 && lambdaPreadAll(fd, head, compared, (off_t)((uintptr_t)low - lambda_exe_delta)) &&
        memcmp(head, low, compared) == 0) {
        lambda_exe_fd = fd;
        lambda_exe_dev = status.st_dev;
        lambda_exe_ino = status.st_ino;
    } else {
        close(fd);
    }
}

static PyObject *lambdaReadMarshalledCode(char const *data, Py_ssize_t size) {
    struct stat status;
    if (lambda_exe_fd >= 0 && fstat(lambda_exe_fd, &status) == 0 && status.st_dev == lambda_exe_dev &&
        status.st_ino == lambda_exe_ino) {
        char *buffer = (char *)malloc((size_t)size);
        if (buffer != NULL) {
            if (lambdaPreadAll(lambda_exe_fd, buffer, (size_t)size, (off_t)((uintptr_t)data - lambda_exe_delta))) {
                PyObject *code = PyMarshal_ReadObjectFromString(buffer, size);
                free(buffer);
                return code;
            }
            free(buffer);
        }
    }
    PyObject *code = PyMarshal_ReadObjectFromString(data, size);
    lambdaDropBytecodePages();
    return code;
}

"""

# (13) findEntry() through a hash index of the entries' names, built on the first lookup.
# Chains keep the table's order, so the first entry that matches is the one Nuitka's scan
# returns; entries with their own name comparison (none in our builds) keep the scan.
_INDEXED_FIND_ENTRY = r"""
/* lambda plugin (13): module table lookups through a hash index. */
static char **lambda_entry_names;  /* each entry's name, by table index */
static int *lambda_entry_next;     /* the next index in the same bucket, or -1 */
static int *lambda_bucket_first;   /* the first index in each bucket, or -1 */
static unsigned lambda_bucket_mask;
static int lambda_index_state;     /* 0: not built yet, 1: built, -1: Nuitka's scan */

static unsigned lambdaNameHash(char const *name) {
    unsigned hash = 2166136261u; /* FNV-1a */
    for (; *name; name++) {
        hash = (hash ^ (unsigned char)*name) * 16777619u;
    }
    return hash;
}

static int lambdaIndexEntries(void) {
    unsigned size = 64;
    while (size < 2u * (unsigned)loader_entry_count) {
        size <<= 1;
    }
    lambda_entry_names = (char **)calloc(loader_entry_count + 1, sizeof(char *));
    lambda_entry_next = (int *)malloc((loader_entry_count + 1) * sizeof(int));
    lambda_bucket_first = (int *)malloc(size * sizeof(int));
    if (lambda_entry_names == NULL || lambda_entry_next == NULL || lambda_bucket_first == NULL) {
        return -1;
    }
    memset(lambda_bucket_first, 0xff, size * sizeof(int));
    lambda_bucket_mask = size - 1;
    for (int i = loader_entry_count - 1; i >= 0; i--) { /* backwards: chains in table order */
        struct Nuitka_MetaPathBasedLoaderEntry const *entry = loader_entries[i];
        if (entry->m_compare_name != NULL) {
            return -1;
        }
        if (entry->m_get_name == NULL) { /* the name as it is */
            lambda_entry_names[i] = (char *)entry->m_name;
        } else {
            char buffer[NUITKA_LOADER_NAME_MAX_LEN];
            Nuitka_LoaderEntryName(entry, buffer, sizeof(buffer));
            lambda_entry_names[i] = strdup(buffer);
            if (lambda_entry_names[i] == NULL) {
                return -1;
            }
        }
        unsigned bucket = lambdaNameHash(lambda_entry_names[i]) & lambda_bucket_mask;
        lambda_entry_next[i] = lambda_bucket_first[bucket];
        lambda_bucket_first[bucket] = i;
    }
    return 1;
}

static struct Nuitka_MetaPathBasedLoaderEntry *findEntry(char const *name, bool internal) {
    if (lambda_index_state == 0) {
        lambda_index_state = lambdaIndexEntries();
    }
    if (lambda_index_state == 1) {
        for (int i = lambda_bucket_first[lambdaNameHash(name) & lambda_bucket_mask]; i >= 0;
             i = lambda_entry_next[i]) {
            if (strcmp(name, lambda_entry_names[i]) == 0 &&
                (internal || (loader_entries[i]->flags & NUITKA_INTERNAL_MODULE_FLAG) == 0)) {
                return loader_entries[i];
            }
        }
        return NULL;
    }
    return lambdaScanEntries(name, internal);
}
"""

# [(text, replacement)] per file of Nuitka's static_src; each text must occur exactly once.
STATIC_SOURCE_PATCHES = {
    "MainProgram.c": MAIN_PROGRAM_PATCHES,
    # (6) the last resort before abort() when neither the environment's locale nor C.UTF-8
    # loads. This file is #included by CompiledCodeHelpers.c, itself #included by the
    # build's copy of CompiledFunctionType.c: patched copies of both go into
    # static_src/lambda_patched/ (not scanned for sources) and the include is redirected.
    "HelpersSafeStrings.c": [
        ("void appendStringSafeW(wchar_t *target, char const *source, size_t buffer_size) {\n",
         _UTF8_DECODER + "void appendStringSafeW(wchar_t *target, char const *source, size_t buffer_size) {\n"),
        ("    if (!converted) {\n        abort();\n    }\n#else\n",
         "    if (!converted) {\n        converted = lambdaDecodeUtf8(target, source, buffer_size);\n    }\n"
         "    if (!converted) {\n        abort();\n    }\n#else\n"),
    ],
    "CompiledCodeHelpers.c": [],
    "MetaPathBasedLoader.c": [
        ("static PyObject *loadModule(PyThreadState *tstate, PyObject *module, PyObject *module_name,\n",
         _DROP_PAGES + _PREAD_BYTECODE + "static PyObject *loadModule(PyThreadState *tstate, PyObject *module, PyObject *module_name,\n"),
        ("(PyCodeObject *)PyMarshal_ReadObjectFromString(_bytecode_data[entry->bytecode_index], entry->bytecode_size);\n",
         "(PyCodeObject *)lambdaReadMarshalledCode(_bytecode_data[entry->bytecode_index], entry->bytecode_size);\n"),
        ("static struct Nuitka_MetaPathBasedLoaderEntry *findEntry(char const *name, bool internal) {\n"
         "    for (int i = 0; i < loader_entry_count; i++) {\n",
         "static struct Nuitka_MetaPathBasedLoaderEntry *lambdaScanEntries(char const *name, bool internal) {\n"
         "    for (int i = 0; i < loader_entry_count; i++) {\n"),
        ("#if !_NUITKA_STANDALONE_MODE\nstatic struct Nuitka_MetaPathBasedLoaderEntry *findContainingPackageEntry(",
         _INDEXED_FIND_ENTRY + "\n#if !_NUITKA_STANDALONE_MODE\n"
         "static struct Nuitka_MetaPathBasedLoaderEntry *findContainingPackageEntry("),
        ("    loader_entry_count = entry_count;\n",
         "    loader_entry_count = entry_count;\n"
         "    lambdaFindBytecodeTable(_loader_entries, entry_count);\n    lambdaDropBytecodePages();\n"),
        # (11) the same module under the name the interpreter started it with: no import of
        # the importlib package (and its warnings) at start-up.
        ('        importlib = PyImport_ImportModule("importlib._bootstrap");\n',
         '        importlib = PyImport_ImportModule("_frozen_importlib");\n'),
        # (15) a bytecode module's code object released once it ran, and the file name it
        # carried once it is replaced.
        ("    PGO_onModuleExit(name, module == NULL);\n\n    Py_DECREF(module_path);\n",
         "    PGO_onModuleExit(name, module == NULL);\n\n    Py_DECREF(module_path);\n"
         "    Py_DECREF(code_object);\n"),
        ("    code_object->co_filename = module_path;\n    Py_INCREF(module_path);\n",
         "    PyObject *replaced_filename = code_object->co_filename;\n"
         "    code_object->co_filename = module_path;\n    Py_INCREF(module_path);\n"
         "    Py_XDECREF(replaced_filename);\n"),
    ],
    "CompiledFunctionType.c": [
        ('#include "CompiledCodeHelpers.c"\n', '#include "lambda_patched/CompiledCodeHelpers.c"\n'),
    ],
}
PATCHED_INCLUDES_DIR = "lambda_patched"
PATCHED_INCLUDES = ("HelpersSafeStrings.c", "CompiledCodeHelpers.c", "MetaPathBasedLoader.c")

# The encodings compiled in. Nuitka would force in every encoding (the CJK ones pull in
# six extension modules, ~1.4 MB); these cover UTF-8/16/32, ASCII, Latin-1 and Windows'
# western code page. Another codec must be imported explicitly (import encodings.cp1251).
KEPT_ENCODINGS = (
    "aliases", "ascii", "charmap", "cp1252", "cp437", "iso8859_1", "iso8859_15", "latin_1",
    "raw_unicode_escape", "unicode_escape", "utf_16", "utf_16_be", "utf_16_le", "utf_32",
    "utf_32_be", "utf_32_le", "utf_7", "utf_8", "utf_8_sig",
)

REGISTRATION_TEMPLATE = """\
/* Generated by buildtools/nuitka_lambda_plugin.py: registers the Cython modules as
 * built-in modules before the interpreter initialises, and exposes Nuitka's inspect
 * patch so that it can run lazily. */
#include "Python.h"

%(declarations)s

extern void patchInspectModule(PyThreadState *tstate);

static PyObject *lambda_patch_inspect(PyObject *self, PyObject *unused) {
    patchInspectModule(PyThreadState_Get());
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef lambda_nuitka_methods[] = {
    {"patch_inspect", lambda_patch_inspect, METH_NOARGS,
     "Apply Nuitka's inspect/types patches (normally done at start-up)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef lambda_nuitka_module = {
    PyModuleDef_HEAD_INIT, "_lambda_nuitka", NULL, -1, lambda_nuitka_methods};

static PyObject *PyInit__lambda_nuitka(void) {
    return PyModule_Create(&lambda_nuitka_module);
}

__attribute__((constructor)) static void lambda_register_builtin_modules(void) {
    PyImport_AppendInittab("_lambda_nuitka", PyInit__lambda_nuitka);
%(registrations)s
}
"""


def native_modules_from_env():
    """[(module_name, c_file)] from LAMBDA_NATIVE_MODULES."""
    spec = os.environ.get("LAMBDA_NATIVE_MODULES", "")
    result = []
    for entry in filter(None, spec.split(os.pathsep)):
        name, _, c_file = entry.partition("=")
        result.append((name, c_file))
    return result


def _check_nuitka_version():
    from nuitka.Version import getNuitkaVersion

    if getNuitkaVersion() != PINNED_NUITKA:
        raise SystemExit(
            "lambda plugin: Nuitka %s is pinned (found %s); its start-up patches are "
            "verified against that version only. Use buildtools/requirements-build.txt."
            % (PINNED_NUITKA, getNuitkaVersion())
        )


def _target_from_env():
    target = targets.from_env()
    if target is None:
        raise SystemExit("lambda plugin: no target in the environment; run Nuitka through build.py")
    running = "%d.%d" % sys.version_info[:2]
    if running != target.python:  # the frozen modules' bytecode and Nuitka's C code are per version
        raise SystemExit("lambda plugin: Nuitka runs on Python %s, the target is %s" % (running, target.python))
    return target


def _linecache_chain():
    """The modules `import linecache` loads into a fresh interpreter. Python 3.13 imports
    linecache for every `python -c` (to keep the source for tracebacks), and Nuitka detects
    start-up modules with `-c`; a bootstrap's start-up imports none of them."""
    import subprocess
    import tempfile

    script = ("import sys\nbefore = set(sys.modules)\nimport linecache\n"
              "print('\\n'.join(sorted(set(sys.modules) - before)))\n")
    with tempfile.NamedTemporaryFile("w", suffix=".py") as f:
        f.write(script)
        f.flush()
        result = subprocess.run([sys.executable, "-S", "-I", f.name], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def _install_stdlib_trim():
    """Early imports: only what CPython's start-up needs; stdlib: only what is imported."""
    from nuitka.freezer import ImportDetection

    def lean_early_imports():
        code = ";".join("import encodings.%s" % name for name in KEPT_ENCODINGS)
        detected = ImportDetection._detectImports(command=code + ";import importlib._bootstrap")
        only_for_dash_c = _linecache_chain() if sys.version_info >= (3, 13) else set()
        return {name for name in detected if name not in only_for_dash_c}

    ImportDetection._detectEarlyImports = lean_early_imports
    ImportDetection._detectStdlibAutoInclusionModules = set


def _patched(filename, code):
    for old, new in STATIC_SOURCE_PATCHES[filename]:
        if code.count(old) != 1:
            raise SystemExit("lambda plugin: %s no longer has exactly one %r; "
                             "re-check the patch for this Nuitka version." % (filename, old))
        code = code.replace(old, new)
    return code


def _install_static_source_patches():
    """Edits Nuitka's C sources as they are copied into the build (STATIC_SOURCE_PATCHES)."""
    from nuitka import MainControl
    from nuitka.utils.FileOperations import getFileContents

    original = MainControl.provideStaticSourceFilesBackend

    def provide_patched(source_dir):
        original(source_dir=source_dir)
        static_dir = os.path.join(source_dir, "static_src")
        nuitka_static_dir = os.path.join(os.path.dirname(MainControl.__file__), "build", "static_src")
        os.makedirs(os.path.join(static_dir, PATCHED_INCLUDES_DIR), exist_ok=True)
        for filename in STATIC_SOURCE_PATCHES:
            if filename in PATCHED_INCLUDES:
                code = getFileContents(os.path.join(nuitka_static_dir, filename))
                path = os.path.join(static_dir, PATCHED_INCLUDES_DIR, filename)
            else:
                path = os.path.join(static_dir, filename)
                with open(path) as f:
                    code = f.read()
                os.unlink(path)  # the copy may be a hard link to Nuitka's own file
            with open(path, "w") as f:
                f.write(_patched(filename, code))

    MainControl.provideStaticSourceFilesBackend = provide_patched


def _ship_libz():
    """(7) Nuitka leaves libz.so out of standalone builds; al2023's minimal root may lack it."""
    from nuitka.freezer import DllDependenciesPosix

    if "libz.so" in DllDependenciesPosix._linux_dll_ignore_list:
        DllDependenciesPosix._linux_dll_ignore_list.remove("libz.so")


class LambdaBootstrapPlugin(NuitkaPluginBase):
    plugin_name = "lambda-bootstrap"
    plugin_desc = "Cython modules as built-ins and a lean start-up for Lambda."

    def __init__(self):
        _check_nuitka_version()
        self.target = _target_from_env()
        if self.target.cross:
            nuitka_cross.install(self.target)
        _install_stdlib_trim()
        _install_static_source_patches()
        _ship_libz()
        self.native_modules = native_modules_from_env()
        self.deferring_in = frozenset(filter(None, os.environ.get(DEFERRED_IMPORT_PACKAGES, "").split(os.pathsep)))
        self.deferred = {}  # module name -> the modules its rewritten source imports on first use

    def onModuleSourceCode(self, module_name, source_filename, source_code):
        if module_name.getTopLevelPackageName() not in self.deferring_in:
            return source_code
        source_code, deferred = deferred_imports.defer_imports(source_code)
        if deferred:
            self.deferred[module_name.asString()] = deferred
        return source_code

    def getImplicitImports(self, module):
        # The rewritten statement names its module in a string: still carried in the binary.
        return self.deferred.get(module.getFullName().asString(), ())

    def getExtraLinkDirectories(self):
        return [self.target.link_dir] if self.target.link_dir else None

    def getExtraLinkLibraries(self):
        return list(self.target.link_libraries) or None

    def onStandaloneDistributionFinished(self, dist_dir):
        if self.target.cross:
            nuitka_cross.retarget_extension_modules(dist_dir, self.target)

    def getExtraCodeFiles(self):
        files = {}
        for name, c_file in self.native_modules:
            with open(c_file) as f:
                files["native_%s.c" % name] = f.read()
        if self.target.cross:
            files["glibc_compat.c"] = nuitka_cross.GLIBC_COMPAT_C
        if frozen_modules.applies(self.target.libpython):
            files["frozen_modules.c"] = frozen_modules.c_source(self.target.stdlib_dir, self.target.libpython)
        files["native_registration.c"] = REGISTRATION_TEMPLATE % {
            "declarations": "\n".join(
                "extern PyObject *PyInit_%s(void);" % name for name, _ in self.native_modules
            ),
            "registrations": "\n".join(
                '    PyImport_AppendInittab("%s", PyInit_%s);' % (name, name)
                for name, _ in self.native_modules
            ),
        }
        return files
