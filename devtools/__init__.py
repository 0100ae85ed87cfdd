"""What the project's own tools share: build.py, buildtools/, invoke.py, sam-deploy/,
bench/ and tests/ import it; the bootstrap never does.

  facts             the build's fixed facts: glibc target, architectures, setup.cfg
                    defaults, the runtime's built-in modules, the build's inputs
  venv              a virtual environment kept in step with its requirement files
  mock_runtime_api  the mock Lambda Runtime API (also `python -m devtools.mock_runtime_api`)
  emulator          AWS's Runtime Interface Emulator around a built bootstrap
"""
