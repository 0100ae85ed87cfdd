"""Finds stdlib modules that were not compiled in, in the .pyc tree the build writes next to
`bootstrap` (buildtools/stdlib_tree.py): the managed runtime's stdlib on disk, loaded only
when something imports it.

The finder sits on sys.meta_path after Nuitka's (compiled-in modules win) and answers only
for stdlib names (and sysconfig's build-specific _sysconfigdata_*), by path in the tree: a submodule whose package was compiled in (e.g.
`email.mime.text` beside a compiled `email`) is found there too, which the path finder,
following the compiled package's __path__, would not.
"""

import sys

class StdlibTreeFinder:
    def __init__(self, root):
        self.root = root
        self.dynload = root + "/lib-dynload"

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in sys.stdlib_module_names and not top.startswith("_sysconfigdata_"):
            return None
        from _frozen_importlib_external import (ExtensionFileLoader, SourcelessFileLoader,
                                                 _path_isfile, spec_from_file_location)

        base = self.root + "/" + name.replace(".", "/")
        init = base + "/__init__.pyc"
        if _path_isfile(init):
            return spec_from_file_location(name, init, loader=SourcelessFileLoader(name, init),
                                           submodule_search_locations=[base])
        if _path_isfile(base + ".pyc"):
            return spec_from_file_location(name, base + ".pyc", loader=SourcelessFileLoader(name, base + ".pyc"))
        if "." not in name:
            from _imp import extension_suffixes

            for suffix in extension_suffixes():
                extension = self.dynload + "/" + name + suffix
                if _path_isfile(extension):
                    return spec_from_file_location(name, extension, loader=ExtensionFileLoader(name, extension))
        return None


def install(root):
    """Puts the finder for the tree at `root` before the path finder on sys.meta_path."""
    from _frozen_importlib_external import PathFinder

    finder = StdlibTreeFinder(root)
    position = sys.meta_path.index(PathFinder) if PathFinder in sys.meta_path else len(sys.meta_path)
    sys.meta_path.insert(position, finder)
    return finder
