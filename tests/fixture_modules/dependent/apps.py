from core.registry import ModuleConfig


class DependentConfig(ModuleConfig):
    name = "tests.fixture_modules.dependent"
    label = "dependent"
    requires = ("dummy",)
