"""devtools.facts against what the bootstrap itself must agree with."""

from devtools import facts


def test_runtime_builtins_agree_with_the_handler_loader(native_modules):
    """The handler loader (inside the bootstrap, where devtools is not) keeps its own copy
    of the runtime's built-in module names: they are not the user's BuiltInModuleConflict."""
    from lambda_runtime import handler_loader

    assert handler_loader._RUNTIME_BUILTINS == facts.RUNTIME_BUILTINS


def test_architecture_aliases():
    assert {facts.normalize_arch(name) for name in ("x86_64", "AMD64", "x64")} == {"x86_64"}
    assert {facts.normalize_arch(name) for name in ("arm64", "aarch64")} == {"arm64"}
    assert set(facts.ARCH_ALIASES.values()) == set(facts.ARCHITECTURES)
