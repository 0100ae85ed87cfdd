#!/bin/sh
# The runtime under valgrind memcheck (plain CPython + the Cython extension modules).
# Point the fault suite at it:  LAMBDA_FAULTS_BOOTSTRAP=tests/valgrind_bootstrap.sh ...
# Logs: ${VALGRIND_LOG_DIR:-/tmp/lambda-valgrind}/vg.<pid>.log; summary: tests/valgrind_summary.sh
here=$(dirname "$(readlink -f "$0")")
logs=${VALGRIND_LOG_DIR:-/tmp/lambda-valgrind}
mkdir -p "$logs"
PYTHONMALLOC=malloc exec valgrind --tool=memcheck --leak-check=no \
    --track-origins=no --log-file="$logs/vg.%p.log" \
    "${LAMBDA_PYTHON:-python3}" "$here/cpython_bootstrap.py"
