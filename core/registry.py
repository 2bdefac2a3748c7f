"""The module registry: manifests, discovery, enablement, ports and hooks.

A feature module is a package under one of MODULE_PACKAGES (default ``modules``) whose ``apps.py``
defines a ``ModuleConfig`` subclass: its manifest. Settings call :func:`resolve_enabled_modules`
before Django starts, so a disabled module is not even an installed app. At run time,
:func:`enabled_modules` lists the manifests Django loaded.

This file imports nothing of Django's ORM so settings can import it.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """A recurring task a module declares; ``sync_schedules`` mirrors it into django-q2."""

    func: str
    cron: str
    name: str = ""
    args: tuple[Any, ...] = ()

    @property
    def key(self) -> str:
        return self.name or self.func


class ModuleConfig(AppConfig):
    """The manifest of a feature module. Subclasses set the class attributes below."""

    default_auto_field = "django.db.models.BigAutoField"
    #: labels of modules that must be enabled for this one to work
    requires: ClassVar[tuple[str, ...]] = ()
    #: URL prefix under /api/v1/ -> "dotted.path:router"
    routers: ClassVar[dict[str, str]] = {}
    schedules: ClassVar[list[Schedule]] = []
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = ""

    def ready(self) -> None:  # subclasses subscribe handlers and register ports here
        super().ready()


@dataclass(frozen=True)
class ModuleInfo:
    label: str
    app: str  # dotted path of the AppConfig, for INSTALLED_APPS
    requires: tuple[str, ...]


def _find_config(package: str, name: str) -> ModuleInfo | None:
    try:
        apps_mod = importlib.import_module(f"{package}.{name}.apps")
    except ModuleNotFoundError as exc:
        if exc.name == f"{package}.{name}.apps":
            return None
        raise
    for _, obj in inspect.getmembers(apps_mod, inspect.isclass):
        if issubclass(obj, ModuleConfig) and obj is not ModuleConfig and obj.__module__ == apps_mod.__name__:
            label = getattr(obj, "label", None) or name
            return ModuleInfo(label=label, app=f"{obj.__module__}.{obj.__name__}", requires=tuple(obj.requires))
    return None


def discover_modules(packages: Iterable[str]) -> dict[str, ModuleInfo]:
    """Every module found under the given packages, by label, in a stable order."""
    found: dict[str, ModuleInfo] = {}
    for package in packages:
        pkg = importlib.import_module(package)
        for sub in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if not sub.ispkg:
                continue
            info = _find_config(package, sub.name)
            if info is None:
                continue
            if info.label in found:
                raise ImproperlyConfigured(f"Two modules share the label {info.label!r}: {found[info.label].app} and {info.app}")
            found[info.label] = info
    return found


def resolve_enabled_modules(available: dict[str, ModuleInfo], enabled_setting: str) -> list[ModuleInfo]:
    """Turn ENABLED_MODULES ("all", "" or a comma-separated list) into the manifests to install.

    Raises ImproperlyConfigured naming the unknown module, or the module and its missing requirement.
    """
    raw = enabled_setting.strip()
    if raw.lower() in {"", "all"}:
        wanted = list(available)
    elif raw.lower() == "none":
        wanted = []
    else:
        wanted = [item.strip() for item in raw.split(",") if item.strip()]
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ImproperlyConfigured(
            f"ENABLED_MODULES names unknown module(s) {', '.join(repr(u) for u in unknown)}; "
            f"available: {', '.join(sorted(available)) or 'none'}"
        )
    for name in wanted:
        for req in available[name].requires:
            if req not in wanted:
                raise ImproperlyConfigured(f"Module {name!r} requires module {req!r}, which is not enabled (ENABLED_MODULES)")
    # Install requirements before dependants so their ready() runs first.
    ordered: list[ModuleInfo] = []
    seen: set[str] = set()

    def visit(label: str, trail: tuple[str, ...] = ()) -> None:
        if label in seen:
            return
        if label in trail:
            raise ImproperlyConfigured(f"Module requirements form a cycle: {' -> '.join((*trail, label))}")
        for req in available[label].requires:
            visit(req, (*trail, label))
        seen.add(label)
        ordered.append(available[label])

    for name in wanted:
        visit(name)
    return ordered


def enabled_modules() -> list[ModuleConfig]:
    """The manifests of the modules Django loaded, in install order."""
    return [cfg for cfg in apps.get_app_configs() if isinstance(cfg, ModuleConfig)]


def is_enabled(label: str) -> bool:
    return any(cfg.label == label for cfg in enabled_modules())


# --- ports: one implementation per name, with a default that a module may replace -----------------


class PortRegistry:
    """Questions one part asks another. Core registers plain defaults; a module may override."""

    def __init__(self) -> None:
        self._impls: dict[str, Any] = {}
        self._defaults: dict[str, Any] = {}

    def set_default(self, name: str, impl: Any) -> None:
        self._defaults[name] = impl

    def register(self, name: str, impl: Any) -> None:
        self._impls[name] = impl

    def unregister(self, name: str) -> None:
        self._impls.pop(name, None)

    def get(self, name: str) -> Any:
        if name in self._impls:
            return self._impls[name]
        if name in self._defaults:
            return self._defaults[name]
        raise LookupError(f"No implementation registered for port {name!r}")

    def has(self, name: str) -> bool:
        return name in self._impls or name in self._defaults

    @contextlib.contextmanager
    def override(self, name: str, impl: Any) -> Iterator[None]:
        """Replace a port for the duration of a block (tests), then restore exactly what was there."""
        missing = object()
        previous = self._impls.get(name, missing)
        self._impls[name] = impl
        try:
            yield
        finally:
            if previous is missing:
                self._impls.pop(name, None)
            else:
                self._impls[name] = previous


# --- hooks: many contributors, called together ---------------------------------------------------


class HookRegistry:
    """Cross-cutting contributions (export, erasure, admin figures, contact policy...)."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[tuple[str, Callable[..., Any]]]] = {}

    def register(self, name: str, owner: str, fn: Callable[..., Any]) -> None:
        entries = self._hooks.setdefault(name, [])
        # Re-registration (e.g. ready() running twice in tests) replaces, never duplicates.
        entries[:] = [(o, f) for (o, f) in entries if o != owner]
        entries.append((owner, fn))

    def entries(self, name: str) -> list[tuple[str, Callable[..., Any]]]:
        return list(self._hooks.get(name, []))

    def call(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """Call every contributor with the keyword arguments it declares; returns {owner: result}."""
        return {owner: fn(**_accepted(fn, kwargs)) for owner, fn in self.entries(name)}


def _accepted(fn: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Only the arguments ``fn`` takes, so a hook may ignore context it does not need (e.g. months)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


class UserExport(dict[str, Any]):
    """What a USER_EXPORT hook may return instead of a plain dict: the JSON data plus the user's files.

    It is a dict (the data), so callers that index a hook's result keep working; ``files`` holds
    ``(name, source)`` pairs: ``name`` is the file's name inside the ZIP, placed under
    ``files/<module>/`` (a folder part such as ``"lessons/notes.pdf"`` is kept, unsafe characters are
    replaced), ``source`` is a storage name in the default storage, a Django ``FieldFile`` (anything with
    ``open()``), or ``bytes``. A storage file that no longer exists is left out and listed as missing.
    """

    def __init__(self, data: Mapping[str, Any] | None = None, *, files: Iterable[tuple[str, Any]] = ()) -> None:
        super().__init__(data or {})
        self.files: list[tuple[str, Any]] = list(files)


@dataclass
class Hooks:
    """Names of the hooks core knows about; modules may add their own names too."""

    USER_EXPORT: str = "user_export"  # fn(user) -> JSON-able dict, or UserExport(data, files)
    USER_ERASE: str = "user_erase"  # fn(user) -> None
    ADMIN_FIGURES: str = "admin_figures"  # fn(months: int) -> dict (months optional)
    INTEGRITY_CHECKS: str = "integrity_checks"  # fn(repair: bool) -> list[dict]
    CONTACT_POLICY: str = "contact_policy"  # fn(sender, recipient) -> str | None (a reason to allow)
    NOTIFICATION_TEMPLATES: str = "notification_templates"  # fn() -> dict[str, template]
    DEMO_DATA: str = "demo_data"  # fn(users: dict[str, User]) -> str
    extra: dict[str, str] = field(default_factory=dict)


ports = PortRegistry()
hooks = HookRegistry()
HOOKS = Hooks()
