"""Shutdown hooks: functions the user registers to run when Lambda ends the environment."""

_hooks = []


def on_shutdown(fn):
    """Registers fn() to run on SIGTERM (usable as a decorator). Hooks run in reverse order
    of registration, within Lambda's 500 ms shutdown window; atexit handlers run after."""
    _hooks.append(fn)
    return fn


def run_hooks():
    import sys

    while _hooks:
        fn = _hooks.pop()
        try:
            fn()
        except Exception as error:
            print("lambda-runtime: shutdown hook %r failed: %r" % (fn, error), file=sys.stderr, flush=True)
