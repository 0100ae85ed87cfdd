"""A handler that uses inspect on compiled code (Nuitka's inspect patch, applied lazily)."""
import inspect


def _numbers():
    yield 1
    yield 2


async def _coroutine():
    return 1


def handler(event, context):
    generator = _numbers()
    created = inspect.getgeneratorstate(generator)
    next(generator)
    suspended = inspect.getgeneratorstate(generator)
    coroutine = _coroutine()
    coroutine_state = inspect.getcoroutinestate(coroutine)
    coroutine.close()
    return {
        "created": created,
        "suspended": suspended,
        "coroutine": coroutine_state,
        "isgeneratorfunction": inspect.isgeneratorfunction(_numbers),
        "signature": str(inspect.signature(handler)),
    }
