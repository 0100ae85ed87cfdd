"""re's compiler answered from the table the build made (buildtools/import_tables.py).

Installed right after `re` is imported, when the build wrote the table: re/_compiler.py's
`compile(pattern, flags)`, which re calls for a pattern it has not cached yet, first looks
the pair up and, when the build compiled it, calls `_sre.compile` with the arguments
CPython's parser and compiler gave at build time. The Pattern is the one re would make
(Pattern.__eq__ compares the compiled code). Anything else goes to CPython's compiler.
"""

import marshal
import sys

FILE = "python/regex-cache.marshal"  # relative to the bootstrap; buildtools/import_tables.py writes it


def header(sre):
    """What the table is valid for: the interpreter's version and its regex engine's."""
    return (tuple(sys.version_info[:3]), sre.MAGIC, sre.CODESIZE)


def install(re, path):
    """Routes re's compiler through the table at `path`. False when there is none, or when
    another interpreter made it."""
    try:
        with open(path, "rb") as f:
            # loads(), not load(f): load reads a file object piecemeal, a method call per
            # value (3.4 ms for boto3's 82 KB table instead of 0.2).
            made_for, table = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):  # none, or damaged
        return False
    compiler = re._compiler
    if made_for != header(compiler._sre):
        return False
    original = compiler.compile
    sre_compile = compiler._sre.compile

    def compile(p, flags=0):
        try:
            final_flags, code, groups, groupindex, indexgroup = table[p, flags]
        except (KeyError, TypeError):  # not compiled at build time, or not hashable
            return original(p, flags)
        return sre_compile(p, final_flags, code, groups, dict(groupindex), indexgroup)

    compile.__wrapped__ = original
    compiler.compile = compile
    return True
