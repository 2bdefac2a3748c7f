from core.registry import ModuleConfig, Schedule


class DummyConfig(ModuleConfig):
    """A module that exists only for the registry's tests (NetBox's habit)."""

    name = "tests.fixture_modules.dummy"
    label = "dummy"
    routers = {"dummy": "tests.fixture_modules.dummy.api:router"}
    schedules = [Schedule("tests.fixture_modules.dummy.api.tick", cron="*/5 * * * *")]
