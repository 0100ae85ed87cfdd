"""C source that replaces CPython 3.11's deep-frozen modules in a static libpython.

CPython 3.11 ships the modules it needs before the file system is usable
(importlib._bootstrap, zipimport, os, codecs, io, ...) as "deep-frozen" static code
objects in deepfreeze.o, and _Py_Deepfreeze_Init() initialises every one of them at
start-up. In a bootstrap linked with static libpython that is ~880 KB of writable data,
~800 KB of it dirtied in every process whether the module is used or not.

frozen.o only reaches those objects through one getter per module
(_Py_get_<name>_toplevel) and pylifecycle.o calls _Py_Deepfreeze_Init/_Fini. When an
object file linked before libpython.a defines all of them, the linker never takes
deepfreeze.o from the archive. Ours return the module's code unmarshalled from bytecode
compiled here, with the build's own Python (the same version as the libpython it links:
the bytecode must match) -- what CPython does for frozen modules when built without
deepfreeze. A module is unmarshalled only when it is imported (three at start-up).

CPython 3.12 deep-freezes the same modules the same way; 3.13 has no deepfreeze.o (its
frozen modules are marshalled bytecode already), so this applies to an archive only when it
has that member, and the getters come from the archive's own frozen.o.
"""

import marshal
import os
import re
import sysconfig

# Getter name suffix -> module, as in CPython 3.11's and 3.12's frozen.c (Tools/build/freeze_modules.py).
FROZEN = {
    "importlib__bootstrap": "importlib._bootstrap",
    "importlib__bootstrap_external": "importlib._bootstrap_external",
    "zipimport": "zipimport",
    "abc": "abc",
    "codecs": "codecs",
    "io": "io",
    "_collections_abc": "_collections_abc",
    "_sitebuiltins": "_sitebuiltins",
    "genericpath": "genericpath",
    "ntpath": "ntpath",
    "posixpath": "posixpath",
    "os": "os",
    "site": "site",
    "stat": "stat",
    "importlib_util": "importlib.util",
    "importlib_machinery": "importlib.machinery",
    "runpy": "runpy",
    "__hello__": "__hello__",
    "__phello__": "__phello__",
    "__phello___ham": "__phello__.ham",
    "__phello___ham_eggs": "__phello__.ham.eggs",
    "__phello___spam": "__phello__.spam",
    "frozen_only": "frozen_only",
}


# Modules served as a stub instead of their stdlib code. zipimport: CPython's start-up
# imports it (and with it `time`, which reads the time zone) only to put zipimporter on
# sys.path_hooks; a bootstrap imports nothing from zip archives, and "no zipimporter" is an
# outcome the start-up accepts. `import zipimport` raises ImportError (pkgutil expects that).
STUBS = {
    "zipimport": 'raise ImportError("zipimport is not part of this Lambda bootstrap: '
                 'nothing is imported from zip archives")\n',
}


def archive_members(path):
    """{member name: bytes} of a Unix ar archive (a static library)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("%s is not an ar archive" % path)
    members, long_names, offset = {}, b"", 8
    while offset + 60 <= len(data):
        header = data[offset:offset + 60]
        name, size = header[:16].rstrip(b" "), int(header[48:58])
        body = data[offset + 60:offset + 60 + size]
        if name == b"//":
            long_names = body
        elif name not in (b"/", b"/SYM64/"):
            if name.startswith(b"/") and name[1:].isdigit():  # GNU: offset into the "//" member
                start = int(name[1:])
                name = long_names[start:long_names.index(b"/\n", start)]
            members[name.rstrip(b"/").decode()] = body
        offset += 60 + size + (size & 1)
    return members


def applies(libpython):
    """Whether the static libpython has deep-frozen modules (CPython 3.11 and 3.12)."""
    return "deepfreeze.o" in archive_members(libpython)


def getters(libpython):
    """The _Py_get_<suffix>_toplevel suffixes the archive's frozen.o calls."""
    frozen_o = archive_members(libpython)["frozen.o"]
    return sorted({m.decode() for m in re.findall(rb"_Py_get_(\w+?)_toplevel\b", frozen_o)})


def source_path(module, stdlib=None):
    """The .py file of a stdlib module (a package's __init__.py), or None."""
    stdlib = stdlib or sysconfig.get_paths()["stdlib"]
    base = os.path.join(stdlib, *module.split("."))
    for path in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(path):
            return path
    return None


def bytecode(module, path):
    if module in STUBS:
        source = STUBS[module]
    else:
        with open(path, "rb") as f:
            source = f.read()
    return marshal.dumps(compile(source, "<frozen %s>" % module, "exec", dont_inherit=True, optimize=0))


def _c_bytes(data):
    lines = []
    for i in range(0, len(data), 24):
        lines.append("    " + ",".join(str(b) for b in data[i:i + 24]) + ",")
    return "\n".join(lines)


def _data_definitions(libpython):
    """Variables deepfreeze.o defines besides the functions. 3.12's defines the version
    counter for code objects, started after its static ones; with none, it starts at 1
    (0 would mean "out of versions")."""
    deepfreeze_o = archive_members(libpython)["deepfreeze.o"]
    if b"_Py_next_func_version" in deepfreeze_o:
        return "#include <stdint.h>\nuint32_t _Py_next_func_version = 1;\n"
    return ""


def c_source(stdlib=None, libpython=None):
    """The C file; with libpython, checked against the getters that archive's frozen.o calls."""
    if libpython:
        unknown = set(getters(libpython)) - set(FROZEN)
        if unknown:
            raise ValueError("%s freezes modules this file does not know: %s (add them to FROZEN)"
                             % (libpython, ", ".join(sorted(unknown))))
    parts = [_data_definitions(libpython)] if libpython else []
    parts += [
        "/* Generated by buildtools/frozen_modules.py: CPython's deep-frozen modules as\n"
        " * marshalled bytecode, unmarshalled when imported (keeps deepfreeze.o out of the link). */\n"
        '#include "Python.h"\n'
        '#include "marshal.h"\n'
        "\n"
        "int _Py_Deepfreeze_Init(void) { return 0; }\n"
        "void _Py_Deepfreeze_Fini(void) {}\n"
        "\n"
        "static PyObject *lambda_missing_frozen(const char *name) {\n"
        '    PyErr_Format(PyExc_ImportError, "frozen module %s is not in this build", name);\n'
        "    return NULL;\n"
        "}\n"
    ]
    for suffix, module in FROZEN.items():
        path = source_path(module, stdlib)
        getter = "_Py_get_%s_toplevel" % suffix
        if path is None:
            parts.append('PyObject *%s(void) { return lambda_missing_frozen("%s"); }\n' % (getter, module))
            continue
        data = bytecode(module, path)
        parts.append(
            "static const unsigned char frozen_%s[%d] = {\n%s\n};\n"
            "PyObject *%s(void) {\n"
            "    return PyMarshal_ReadObjectFromString((const char *)frozen_%s, sizeof(frozen_%s));\n"
            "}\n" % (suffix, len(data), _c_bytes(data), getter, suffix, suffix))
    return "\n".join(parts)
