#!/usr/bin/env python3
"""What each Managed-Instances worker does not share with the supervisor, page by page.

    .test-venv/bin/python bench/worker_pages.py [BOOTSTRAP]   (root: reads /proc/PID/pagemap)

Runs the boto3 function (default: its CPython 3.13 build from bench/real_functions.py) as
the concurrency row there runs it (real_functions.concurrent_workers: 16 workers, 4
invocations each, against moto's server), then
compares every present page of each worker with the supervisor's page at the same address:

- shared: the same page frame (copy-on-write not broken);
- copied: the supervisor has a page there too, the worker a copy of its own (a write);
- fresh: the supervisor has no page there (new memory, or file pages it never touched).

Then, for the first worker's copied heap pages (glibc heap and anonymous mappings), which
objects the changed 8-byte words belong to: each changed word is attributed to the object
whose header (an immortal reference count, then a pointer to a type) precedes it, and the
pages are grouped by whether their writes all fall in code objects (CPython 3.12+: the
init's objects are immortal by then, so every such header reads 0xFFFFFFFF).
"""

import collections
import os
import struct
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(BENCH))
sys.path.insert(0, BENCH)

import measure  # noqa: E402
import real_functions  # noqa: E402
from devtools.local_services import MotoServer  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
IMMORTAL_REFCNT = 0xFFFFFFFF
TYPE_NAME_OFFSET = 24          # PyTypeObject.tp_name, after the variable-size object header
CODE_FILENAME_OFFSET = 112     # PyCodeObject.co_filename (CPython 3.13, 64-bit)
ASCII_DATA_OFFSET = 40         # the characters of a compact ASCII str (CPython 3.12+, 64-bit)


def _mappings(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            yield start, end, fields[1], os.path.basename(fields[5]) if len(fields) > 5 else "[anon]"


def present_pages(pid):
    """{address: (page frame, "mapping perms")} of the process's present pages."""
    pages = {}
    with open("/proc/%d/pagemap" % pid, "rb") as pagemap:
        for start, end, perms, name in _mappings(pid):
            if name == "[vsyscall]":
                continue
            pagemap.seek(start // PAGE * 8)
            for i, (entry,) in enumerate(struct.iter_unpack("Q", pagemap.read((end - start) // PAGE * 8))):
                if entry >> 63:
                    pages[start + i * PAGE] = (entry & ((1 << 55) - 1), "%s %s" % (name, perms))
    return pages


class Memory:
    """Reads another process's memory (/proc/PID/mem)."""

    def __init__(self, pid):
        self.file = open("/proc/%d/mem" % pid, "rb")
        self._is_type = {}

    def read(self, address, size):
        try:
            self.file.seek(address)
            return self.file.read(size)
        except (OSError, ValueError, OverflowError):
            return b""

    def word(self, address):
        data = self.read(address, 8)
        return struct.unpack("Q", data)[0] if len(data) == 8 else None

    def c_string(self, address, limit=60):
        out = b""
        while len(out) < limit:
            char = self.read(address + len(out), 1)
            if char in (b"", b"\0"):
                break
            out += char
        return out.decode("ascii", "replace")

    def ascii_str(self, address):
        length = self.word(address + 16) if address else None
        return self.read(address + ASCII_DATA_OFFSET, length).decode("latin-1") if length and length < 400 else "?"

    def find_type_type(self, pid):
        """The address of PyType_Type: in the program's writable data, the object whose type is
        itself and whose name is "type"."""
        for start, end, perms, name in _mappings(pid):
            if perms.startswith("rw") and name not in ("[anon]", "[heap]", "[stack]"):
                data = self.read(start, end - start)
                words = struct.unpack("%dQ" % (len(data) // 8), data[:len(data) // 8 * 8])
                for i in range(len(words) - 3):
                    if words[i + 1] == start + i * 8 and self.c_string(words[i + 3]) == "type":
                        return start + i * 8
        raise SystemExit("PyType_Type not found")

    def is_type(self, address, type_type):
        if address not in self._is_type:
            metatype = self.word(address + 8)
            self._is_type[address] = metatype == type_type or (
                metatype is not None and self.word(metatype + 8) == type_type)
        return self._is_type[address]

    def owner(self, address, type_type):
        """(type name, object address) of the immortal object holding `address`, or None."""
        for back in range(8, 4096, 8):
            candidate = address - back - 8
            if self.word(candidate) == IMMORTAL_REFCNT:
                type_address = self.word(candidate + 8)
                if type_address and type_address > 0x10000 and self.is_type(type_address, type_type):
                    return self.c_string(self.word(type_address + TYPE_NAME_OFFSET)), candidate
        return None


def classify(supervisor, workers):
    """{"shared"/"copied"/"fresh": Counter(mapping: pages)} summed over the workers."""
    theirs = present_pages(supervisor)
    kinds = {kind: collections.Counter() for kind in ("shared", "copied", "fresh")}
    for pid in workers:
        for address, (frame, mapping) in present_pages(pid).items():
            if address not in theirs:
                kinds["fresh"][mapping] += 1
            elif theirs[address][0] == frame:
                kinds["shared"][mapping] += 1
            else:
                kinds["copied"][mapping] += 1
    return theirs, kinds


def copied_heap_writes(supervisor, worker, theirs):
    """(Counter of page groups, Counter of code objects' files) for one worker's copied heap pages."""
    before, after = Memory(supervisor), Memory(worker)
    type_type = before.find_type_type(supervisor)
    groups, code_files, code_objects = collections.Counter(), collections.Counter(), set()
    for address, (frame, mapping) in present_pages(worker).items():
        if address not in theirs or theirs[address][0] == frame or mapping.split()[0] not in ("[heap]", "[anon]"):
            continue
        old = struct.unpack("%dQ" % (PAGE // 8), before.read(address, PAGE))
        new = struct.unpack("%dQ" % (PAGE // 8), after.read(address, PAGE))
        changed = [address + i * 8 for i in range(PAGE // 8) if old[i] != new[i]]
        if not changed:
            groups["written with the same values"] += 1
            continue
        if len(changed) > 32:
            groups["more than 32 words changed (new objects, filled tables)"] += 1
            continue
        owners = set()
        for word_address in changed:
            found = before.owner(word_address, type_type)
            owners.add(found[0] == "code" if found else False)
            if found and found[0] == "code" and found[1] not in code_objects:
                code_objects.add(found[1])
                code_files[os.path.basename(before.ascii_str(before.word(found[1] + CODE_FILENAME_OFFSET)))] += 1
        groups["up to 32 words, all in code objects" if owners == {True} else
               "up to 32 words, some in code objects" if True in owners else
               "up to 32 words, none in code objects"] += 1
    return groups, code_files


def main():
    bootstrap = sys.argv[1] if len(sys.argv) > 1 else real_functions.bootstrap_path(real_functions.CONCURRENT)
    mib = lambda pages, n=1: pages * PAGE / 2 ** 20 / n  # noqa: E731
    moto = MotoServer()
    try:
        runtime = measure.Runtime("bootstrap", [os.path.abspath(bootstrap)], "app.handler", env=moto.env())
        with real_functions.concurrent_workers(runtime) as (supervisor, workers):
            theirs, kinds = classify(supervisor, workers)
            groups, code_files = copied_heap_writes(supervisor, workers[0], theirs)
    finally:
        moto.stop()
    print("supervisor: %.1f MiB present; %d workers, per worker (MiB):" % (mib(len(theirs)), len(workers)))
    for kind, mappings in kinds.items():
        print("  %-7s %6.2f   %s" % (kind, mib(sum(mappings.values()), len(workers)), ", ".join(
            "%s %.2f" % (name, mib(pages, len(workers))) for name, pages in mappings.most_common(4))))
    print("the first worker's copied heap pages (MiB):")
    for group, pages in groups.most_common():
        print("  %6.2f  %s" % (mib(pages), group))
    print("code objects written: %d, by file: %s" % (sum(code_files.values()), ", ".join(
        "%s %d" % item for item in code_files.most_common(12))))


if __name__ == "__main__":
    main()
