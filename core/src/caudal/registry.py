"""Discovery and loading of connector plugins (entry-point group `caudal.connectors`).

`names()` and `about()` read installed metadata and each plugin's static `caudal-plugin.toml`
and import nothing; `get()` imports exactly the plugin asked for (through stevedore). A plugin
that cannot load (import error, missing dependency, incompatible API, duplicate name, invalid
manifest) raises `PluginError` for that name only; every other plugin keeps working.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigurationError, PluginError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from .connector import Connector

__all__ = [
    "CONNECTOR_GROUP",
    "EXTENSION_GROUP",
    "MANIFEST_FILE",
    "PLUGIN_API",
    "Manifest",
    "PluginStatus",
    "Registry",
]

PLUGIN_API = "1.2"
"""Version of the plugin API; plugins declare the range they support (`api = ">=1,<2"`).

1.1 added `caudal.model.builder` and the native checks (`ExactDecimal`, `UnsignedDecimal`,
`IsoDate`, `OffsetDateTime`, `DateOrOffsetDateTime`); a plugin using them declares `>=1.1`."""
CONNECTOR_GROUP = "caudal.connectors"
EXTENSION_GROUP = "caudal.extensions"
MANIFEST_FILE = "caudal-plugin.toml"

Status = Literal[
    "ok",
    "import error",
    "missing dependency",
    "incompatible",
    "duplicate",
    "invalid manifest",
    "invalid extension",
    "not a connector",
]


class Manifest(BaseModel):
    """What the registry knows about a connector without importing it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    title: str = ""
    description: str = ""
    capabilities: tuple[str, ...]
    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None
    api: str | None = None


class _ConnectorSection(BaseModel):
    """One `[connectors."<name>"]` table of a `caudal-plugin.toml`, exactly as typed."""

    # Keys this caudal does not know are ignored: a newer plugin API may add some.
    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", defer_build=True)

    title: str = ""
    description: str = ""
    capabilities: list[str]


class _ManifestFile(BaseModel):
    """A package's `caudal-plugin.toml`: the API range and one table per connector."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", defer_build=True)

    api: str | None = None
    connectors: dict[str, Any] = {}


def _manifest_fault(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> str:
    """The first problems of a manifest, each at its key path (`connectors."x".capabilities`)."""
    faults = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(
            f'"{part}"' if isinstance(part, str) and not part.isidentifier() else str(part)
            for part in (*prefix, *error["loc"])
        )
        faults.append(f"{where or 'the file'}: {error['msg']}")
    more = exc.error_count() - len(faults)
    return "; ".join(faults) + (f" (and {more} more)" if more > 0 else "")


class PluginStatus(BaseModel):
    """One line of `caudal doctor`."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    kind: Literal["connector", "extension"] = "connector"
    status: Status
    distribution: str | None = None
    version: str | None = None
    capabilities: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class _Entry:
    point: EntryPoint

    @property
    def distribution(self) -> str | None:
        return self.point.dist.name if self.point.dist else None

    @property
    def version(self) -> str | None:
        return self.point.dist.version if self.point.dist else None

    @property
    def top_module(self) -> str:
        return self.point.module.split(".")[0]


def _api_compatible(spec: str | None) -> str | None:
    """None if `spec` admits PLUGIN_API, else the reason it does not."""
    if not spec:
        return f"declares no plugin API range (this caudal has API {PLUGIN_API})"
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        ok = SpecifierSet(spec).contains(PLUGIN_API, prereleases=True)
    except InvalidSpecifier:
        return f"plugin API range {spec!r} is not a version specifier"
    return None if ok else f"supports plugin API {spec}, this caudal has API {PLUGIN_API}"


def _classify_import_failure(exc: BaseException, top_module: str) -> tuple[Status, str]:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        missing = exc.name.split(".")[0]
        if missing != top_module:
            return "missing dependency", f"needs module {exc.name!r}, which is not installed"
    return "import error", f"{type(exc).__name__}: {exc}"


def _module_exists(module: str) -> bool:
    """Whether `module` can be found, looked up on the path without importing any of it."""
    from importlib.machinery import PathFinder

    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    for part in rest:
        if spec is None or not spec.submodule_search_locations:
            return False
        spec = PathFinder.find_spec(f"{spec.name}.{part}", list(spec.submodule_search_locations))
    return spec is not None


def _check_extension(name: str, distribution: str | None, extension: object) -> None:
    """Register `extension` on a scratch hook manager: a misspelt or ill-formed hook is a
    PluginError naming the extension, found when it loads rather than on a connector's first
    use, and never pluggy's own error."""
    import pluggy

    from . import capabilities

    manager = pluggy.PluginManager(capabilities.PROJECT)
    manager.add_hookspecs(capabilities)
    try:
        manager.register(extension, name=f"extension:{name}")
        manager.check_pending()
    except Exception as exc:  # PluginValidationError, or a hook pluggy cannot inspect
        known = ", ".join(sorted(capabilities.CAPABILITIES))
        reason = str(exc).replace(repr(extension), "the extension")
        raise PluginError(
            name,
            distribution,
            f"{reason} (caudal's hooks: {known})",
            status="invalid extension",
        ) from None


class Registry:
    """The connectors a host app can use, discovered from installed plugins or given directly.

    `allow` (or the `CAUDAL_PLUGINS` environment variable, comma-separated) limits the registry
    to the listed connector names or distribution names.
    """

    def __init__(
        self,
        *,
        allow: Iterable[str] | None = None,
        group: str = CONNECTOR_GROUP,
        extension_group: str | None = EXTENSION_GROUP,
    ) -> None:
        if allow is None and os.environ.get("CAUDAL_PLUGINS"):
            allow = [a.strip() for a in os.environ["CAUDAL_PLUGINS"].split(",") if a.strip()]
        self._allow = frozenset(allow) if allow is not None else None
        self._group = group
        self._extension_group = extension_group
        self._classes: dict[str, type[Connector]] | None = None
        self._entries: dict[str, list[_Entry]] | None = None
        self._extensions: list[object] | None = None
        self._extension_status: list[PluginStatus] = []
        self._manifests: dict[str, _ManifestFile | PluginError] = {}

    @classmethod
    def of(cls, *connectors: type[Connector], extensions: Iterable[object] = ()) -> Registry:
        """A registry of connector classes given directly: for host apps' own tests."""
        registry = cls(allow=None, extension_group=None)
        registry._classes = {}
        for connector in connectors:
            if connector.name in registry._classes:
                raise PluginError(connector.name, None, "given twice", status="duplicate")
            registry._classes[connector.name] = connector
        registry._entries = {}
        registry._extensions = list(extensions)
        for extension in registry._extensions:
            _check_extension(type(extension).__name__, None, extension)
        return registry

    # -- discovery without imports -------------------------------------------------------------

    def _all_entries(self) -> dict[str, list[_Entry]]:
        if self._entries is None:
            from importlib.metadata import entry_points

            found: dict[str, list[_Entry]] = {}
            for point in entry_points(group=self._group):
                entry = _Entry(point)
                # The distribution's name costs a read of its metadata: only an allowlist needs it.
                if self._allow is None or self._allowed(point.name, entry.distribution):
                    found.setdefault(point.name, []).append(entry)
            self._entries = found
        return self._entries

    def _allowed(self, name: str, distribution: str | None) -> bool:
        return self._allow is None or name in self._allow or distribution in self._allow

    def names(self) -> list[str]:
        """Every connector name available, sorted. Imports no plugin code."""
        return sorted({*(self._classes or {}), *self._all_entries()})

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _entry(self, name: str) -> _Entry:
        entries = self._all_entries().get(name)
        if not entries:
            known = ", ".join(self.names()) or "none installed"
            raise PluginError(
                name, None, f"no such connector (available: {known})", status="import error"
            )
        if len(entries) > 1:
            dists = ", ".join(sorted(str(e.distribution) for e in entries))
            raise PluginError(
                name,
                dists,
                f"the name is provided by several distributions: {dists}",
                status="duplicate",
            )
        return entries[0]

    def _manifest_file(self, entry: _Entry) -> _ManifestFile:
        """The package's `caudal-plugin.toml`, parsed and typed once, found without import."""
        top = entry.top_module
        cached = self._manifests.get(top)
        if cached is None:
            try:
                spec = importlib.util.find_spec(top)
                locations = list(spec.submodule_search_locations or []) if spec else []
                path = next(
                    (
                        Path(p) / MANIFEST_FILE
                        for p in locations
                        if (Path(p) / MANIFEST_FILE).is_file()
                    ),
                    None,
                )
                if path is None:
                    raise FileNotFoundError(f"package {top!r} has no {MANIFEST_FILE}")
                cached = _ManifestFile.model_validate(
                    tomllib.loads(path.read_text(encoding="utf-8"))
                )
            except ValidationError as exc:
                cached = PluginError(
                    entry.point.name,
                    entry.distribution,
                    f"{MANIFEST_FILE} of package {top!r}: {_manifest_fault(exc)}",
                    status="invalid manifest",
                )
            except FileNotFoundError as exc:
                cached = PluginError(
                    entry.point.name, entry.distribution, str(exc), status="invalid manifest"
                )
            except (OSError, ValueError, ImportError) as exc:  # unreadable, not UTF-8, not TOML
                cached = PluginError(
                    entry.point.name,
                    entry.distribution,
                    f"{MANIFEST_FILE} of package {top!r}: {exc}",
                    status="invalid manifest",
                )
            self._manifests[top] = cached
        if isinstance(cached, PluginError):
            raise PluginError(
                entry.point.name, entry.distribution, cached.reason, status=cached.status
            )
        return cached

    def _static_manifest(self, entry: _Entry) -> tuple[str | None, _ConnectorSection]:
        """The plugin API range and the connector's own table, each checked against its model."""
        manifest = self._manifest_file(entry)
        name, top = entry.point.name, entry.top_module
        section = manifest.connectors.get(name)
        if section is None:
            raise PluginError(
                name,
                entry.distribution,
                f"{MANIFEST_FILE} of package {top!r} has no [connectors.{name!r}] table",
                status="invalid manifest",
            )
        try:
            return manifest.api, _ConnectorSection.model_validate(section)
        except ValidationError as exc:
            fault = _manifest_fault(exc, ("connectors", name))
            raise PluginError(
                name,
                entry.distribution,
                f"{MANIFEST_FILE} of package {top!r}: {fault}",
                status="invalid manifest",
            ) from None

    def about(self, name: str) -> Manifest:
        """The connector's manifest: capabilities, distribution, version, ... Imports nothing.

        A plugin whose manifest is malformed, or whose module is not installed, is a
        `PluginError` naming it (found by looking the module up, not by importing it).
        """
        if self._classes and name in self._classes:
            from .connector import capabilities_of

            connector = self._classes[name]
            return Manifest(
                name=name,
                title=connector.title,
                description=(connector.__doc__ or "").strip().split("\n")[0],
                capabilities=tuple(sorted(capabilities_of(connector))),
                api=PLUGIN_API,
            )
        entry = self._entry(name)
        if not _module_exists(entry.point.module):
            raise PluginError(
                name,
                entry.distribution,
                f"module {entry.point.module!r} (entry point {entry.point.value}) is not installed",
                status="import error",
            )
        api, section = self._static_manifest(entry)
        return Manifest(
            name=name,
            title=section.title,
            description=section.description,
            capabilities=tuple(sorted(section.capabilities)),
            distribution=entry.distribution,
            version=entry.version,
            entry_point=entry.point.value,
            api=api,
        )

    def catalogue(self) -> list[PluginStatus]:
        """Every connector and whether it can be loaded, as data; imports no plugin code.

        What `caudal list` shows: a malformed manifest or a module that is not installed is
        reported here with its reason; faults only an import reveals are `doctor`'s.
        """
        report = []
        for name in self.names():
            try:
                about = self.about(name)
            except PluginError as exc:
                report.append(
                    PluginStatus(
                        name=name,
                        status=exc.status,
                        distribution=exc.distribution,
                        reason=exc.reason,
                    )
                )
                continue
            report.append(
                PluginStatus(
                    name=name,
                    status="ok",
                    distribution=about.distribution,
                    version=about.version,
                    capabilities=about.capabilities,
                )
            )
        return report

    # -- loading -------------------------------------------------------------------------------

    def load(self, name: str) -> type[Connector]:
        """The connector class for `name`, importing only its plugin."""
        from .connector import Connector, capabilities_of

        if self._classes and name in self._classes:
            return self._classes[name]
        manifest = self.about(name)
        entry = self._entry(name)
        problem = _api_compatible(manifest.api)
        if problem:
            raise PluginError(name, entry.distribution, problem, status="incompatible")
        loaded = self._import(entry)
        if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
            raise PluginError(
                name,
                entry.distribution,
                f"{entry.point.value} is not a Connector subclass",
                status="not a connector",
            )
        implemented = capabilities_of(loaded)
        if set(manifest.capabilities) != implemented or loaded.name != name:
            raise PluginError(
                name,
                entry.distribution,
                f"manifest says {loaded.name if loaded.name != name else name} offers "
                f"{sorted(manifest.capabilities)} but the class named {loaded.name!r} implements "
                f"{sorted(implemented)}",
                status="invalid manifest",
            )
        return loaded

    def _import(self, entry: _Entry) -> Any:
        from stevedore import ExtensionManager, NamedExtensionManager

        # stevedore keeps a process-wide list of a group's entry points from its first use and
        # never refreshes it, so a plugin installed later (or a registry with another sys.path)
        # would be invisible. Its own cache below that is keyed by sys.path and file mtimes and
        # stays correct, so dropping the list costs one cheap lookup.
        ExtensionManager.ENTRY_POINT_CACHE.pop(self._group, None)

        failures: list[BaseException] = []
        manager: NamedExtensionManager[Any] = NamedExtensionManager(
            self._group,
            names=[entry.point.name],
            invoke_on_load=False,
            on_load_failure_callback=lambda _mgr, _ep, exc: failures.append(exc),
        )
        if failures or not manager.extensions:
            exc = failures[0] if failures else ImportError("entry point did not load")
            status, reason = _classify_import_failure(exc, entry.top_module)
            raise PluginError(entry.point.name, entry.distribution, reason, status=status)
        return manager.extensions[0].plugin

    def extensions(self) -> list[object]:
        """Extension plugins (hook wrappers) every connector from this registry gets."""
        if self._extensions is None:
            self._extensions = []
            if self._extension_group:
                self._load_extensions(self._extension_group)
        return self._extensions

    def _load_extensions(self, group: str) -> None:
        from importlib.metadata import entry_points

        assert self._extensions is not None
        for point in entry_points(group=group):
            dist = point.dist.name if point.dist else None
            if not self._allowed(point.name, dist):
                continue
            status: Status = "ok"
            reason = None
            try:
                extension = point.load()
            except Exception as exc:
                status, reason = _classify_import_failure(exc, point.module.split(".")[0])
            else:
                try:
                    _check_extension(point.name, dist, extension)
                    self._extensions.append(extension)
                except PluginError as exc:
                    status, reason = exc.status, exc.reason  # type: ignore[assignment]
            self._extension_status.append(
                PluginStatus(
                    name=point.name,
                    kind="extension",
                    status=status,
                    distribution=dist,
                    reason=reason,
                )
            )

    def get(self, name: str, **settings: Any) -> Connector:
        """A ready connector; settings from `CAUDAL_<PROVIDER>_*` env vars or these overrides."""
        if "extensions" in settings:
            raise ConfigurationError(
                "extensions are not a setting: give them to Registry.of(..., extensions=[...]) "
                "or install them as entry points (group caudal.extensions)",
                connector=name,
            )
        return self.load(name)(extensions=self.extensions(), **settings)

    # -- health --------------------------------------------------------------------------------

    def doctor(self) -> list[PluginStatus]:
        """Load every plugin and report each one's state; never raises for a broken plugin."""
        from .connector import capabilities_of

        report = []
        for name in self.names():
            entries = self._all_entries().get(name, [])
            dist = entries[0].distribution if len(entries) == 1 else None
            version = entries[0].version if len(entries) == 1 else None
            try:
                loaded = self.load(name)
                report.append(
                    PluginStatus(
                        name=name,
                        status="ok",
                        distribution=dist,
                        version=version,
                        capabilities=tuple(sorted(capabilities_of(loaded))),
                    )
                )
            except PluginError as exc:
                report.append(
                    PluginStatus(
                        name=name,
                        status=exc.status,
                        distribution=exc.distribution or dist,
                        version=version,
                        reason=exc.reason,
                    )
                )
        self.extensions()
        return report + list(self._extension_status)

    def refresh(self) -> None:
        """Forget what was discovered (after installing or removing a plugin at run time)."""
        self._entries = None if self._classes is None else self._entries
        self._manifests.clear()
