#!/bin/sh
# Summarises the memcheck logs of a fault-suite run under valgrind (see test_faults.py):
#   rm -rf /tmp/lambda-valgrind
#   LAMBDA_NATIVE_EXT=build/test/ext LAMBDA_PYTHON=.test-venv/bin/python \
#   LAMBDA_FAULTS_BOOTSTRAP=$PWD/tests/valgrind_bootstrap.sh LAMBDA_FAULTS_TIME_SCALE=15 \
#     .test-venv/bin/python -m pytest tests/test_faults.py -q -k "not SLOW and not hold_times"
#   sh tests/valgrind_summary.sh
# Counts processes, memcheck's own ERROR SUMMARY lines, the memory-safety error kinds
# (invalid read/write/free, overlap, mismatched free) and errors whose first frame is in
# the runtime's Cython code (_lambda_http / _lambda_runtime). CPython 3.11 without its
# suppression file reports "uninitialised value" at Py_INCREF of small ints/static
# objects in every process (the same 12 contexts at startup): those are not ours.
logs=${VALGRIND_LOG_DIR:-/tmp/lambda-valgrind}
echo "processes: $(ls "$logs"/vg.*.log | wc -l)"
grep -h "ERROR SUMMARY" "$logs"/vg.*.log | sed 's/^==[0-9]*== //' | sort | uniq -c
echo "invalid read/write/free, overlap, mismatched: $(grep -hE '== (Invalid (read|write|free)|Source and destination overlap|Mismatched free|Syscall param)' "$logs"/vg.*.log | wc -l)"
echo "errors whose first frame is in _lambda_http/_lambda_runtime: $(grep -hA1 -E '== (Invalid|Conditional|Use of|Source|Mismatched|Syscall)' "$logs"/vg.*.log | grep -cE 'at 0x[0-9A-F]+: .*(_lambda_http|_lambda_runtime|__pyx)')"
