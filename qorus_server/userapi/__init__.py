"""What interface code sees: ``wf``, ``svc``, ``job``, ``OMQ``, ``UserApi``, ``WorkflowApi``,
``ServiceApi``, ``JobApi`` (``wfapi``, ``svcapi`` and ``jobapi`` are the same classes).

:func:`install` registers them in ``sys.modules`` (so ``from wf import QorusNormalStep`` and
``import OMQ`` work) and :func:`code_namespace` gives the globals every compiled interface file
starts with (so ``wf.QorusNormalStep`` and ``UserApi.logInfo`` work without an import).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from . import job, omq, svc, wf
from .jobapi import JobApi
from .svcapi import ServiceApi
from .userapi import UserApi
from .wfapi import WorkflowApi

_MODULES: dict[str, types.ModuleType] = {}


def _module(
    name: str, source: types.ModuleType, extra: dict[str, Any] | None = None
) -> types.ModuleType:
    mod = types.ModuleType(name, source.__doc__)
    for key, value in vars(source).items():
        if not key.startswith("_"):
            setattr(mod, key, value)
    for key, value in (extra or {}).items():
        setattr(mod, key, value)
    return mod


def install() -> dict[str, types.ModuleType]:
    """Register the interface modules in ``sys.modules`` (idempotent)."""
    if not _MODULES:
        api = {"UserApi": UserApi, "WorkflowApi": WorkflowApi, "wfapi": WorkflowApi}
        _MODULES["wf"] = _module("wf", wf, api)
        sapi = {"UserApi": UserApi, "ServiceApi": ServiceApi, "svcapi": ServiceApi}
        _MODULES["svc"] = _module("svc", svc, sapi)
        _MODULES["job"] = _module(
            "job", job, {"UserApi": UserApi, "JobApi": JobApi, "jobapi": JobApi}
        )
        _MODULES["OMQ"] = _module("OMQ", omq)
        for name, obj in (
            ("UserApi", UserApi),
            ("WorkflowApi", WorkflowApi),
            ("ServiceApi", ServiceApi),
            ("JobApi", JobApi),
        ):
            mod = types.ModuleType(name, obj.__doc__)
            setattr(mod, name, obj)
            for attr in dir(obj):
                if not attr.startswith("_"):
                    setattr(mod, attr, getattr(obj, attr))
            _MODULES[name] = mod
        _MODULES["wfapi"] = _MODULES["WorkflowApi"]
        _MODULES["svcapi"] = _MODULES["ServiceApi"]
        _MODULES["jobapi"] = _MODULES["JobApi"]
    for name, mod in _MODULES.items():
        sys.modules.setdefault(name, mod)
    return _MODULES


def code_namespace(module_name: str) -> dict[str, Any]:
    """Fresh globals for one compiled interface file."""
    mods = install()
    return {
        "__name__": module_name,
        "__builtins__": __builtins__,
        "wf": mods["wf"],
        "svc": mods["svc"],
        "job": mods["job"],
        "OMQ": mods["OMQ"],
        "UserApi": UserApi,
        "WorkflowApi": WorkflowApi,
        "wfapi": WorkflowApi,
        "ServiceApi": ServiceApi,
        "svcapi": ServiceApi,
        "JobApi": JobApi,
        "jobapi": JobApi,
    }


__all__ = ["JobApi", "ServiceApi", "UserApi", "WorkflowApi", "code_namespace", "install"]
