"""One module per command family. Each declares its commands with `handlers.command_table.command`
and attaches their handlers; importing this package imports every module in it, so the registry
is complete (a new module needs no line here)."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
