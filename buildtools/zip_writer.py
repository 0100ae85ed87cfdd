"""The smallest function.zip (--lean-stdlib): every entry's deflate stream made by Zopfli
instead of zlib. The format is the same (any unzip, and Lambda, reads it) and a bootstrap
comes out ~4.5% smaller than at zlib's level 6, for ~3 s per MB; zipfile compresses each entry itself with zlib and
takes no stream made elsewhere, so the archive is written here, entry by entry (no Zip64:
a lean function has a handful of files).

    python -m buildtools.zip_writer DIR ZIP     # run with the build venv (the zopfli wheel)
"""

import os
import struct
import sys
import zlib

# Stored as they are: deflating them again gains nothing.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zip", ".whl", ".jar", ".png", ".jpg", ".jpeg", ".gif",
                       ".webp")
DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1   # 2020-01-01 00:00: a reproducible zip
VERSION = 20                                      # "2.0": deflate
MADE_ON_UNIX = 3 << 8                             # the external attributes are Unix modes


def entries(root):
    """(name in the zip, path, mode) of every file under root, in a fixed order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            name = os.path.relpath(path, root)
            yield name, path, 0o755 if name == "bootstrap" or os.access(path, os.X_OK) else 0o644


def zopfli_deflate(data):
    from zopfli.zopfli import compress

    # Measured on the echo bootstrap (6.5 MB): 5 iterations and up to 60 blocks, 0.5% smaller
    # than Zopfli's defaults in 20 s; more of either gains nothing.
    stream = compress(data, numiterations=5, blocksplittingmax=60)
    return stream[2:-4]   # a zlib stream: its header and Adler-32 off


def write(root, zip_path, deflate=zopfli_deflate):
    central, offset = [], 0
    tmp_path = zip_path + ".tmp"
    with open(tmp_path, "wb") as out:
        for name, path, mode in entries(root):
            with open(path, "rb") as f:
                data = f.read()
            stored = name.endswith(COMPRESSED_SUFFIXES)
            body = data if stored else deflate(data)
            encoded, flags = name.encode("utf-8"), 0 if name.isascii() else 0x800   # bit 11: UTF-8 name
            fields = (flags, 0 if stored else 8, 0, DOS_DATE, zlib.crc32(data), len(body), len(data), len(encoded))
            out.write(struct.pack("<IH4H3I2H", 0x04034B50, VERSION, *fields, 0) + encoded + body)
            central.append(struct.pack("<I2H4H3I5H2I", 0x02014B50, MADE_ON_UNIX | VERSION, VERSION, *fields,
                                       0, 0, 0, 0, (0o100000 | mode) << 16, offset) + encoded)
            offset += 30 + len(encoded) + len(body)
        directory = b"".join(central)
        if len(central) > 0xFFFF or offset + len(directory) > 0xFFFFFFFF:
            raise ValueError("%s: too large for a zip without Zip64" % zip_path)
        out.write(directory)
        out.write(struct.pack("<I4H2IH", 0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))
    os.replace(tmp_path, zip_path)
    return zip_path


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2])
