"""Chooses the compiled module built for this CPU.

A wheel made by ``scripts/release.sh`` carries whisper.cpp built for four x86-64 levels: the
module ``_ytcaption.abi3.so`` (x86-64-v2: SSE4.2, runs on any x86-64 CPU of the last 15 years)
and, next to it, ``_ytcaption_v3.abi3.so`` (AVX2, FMA, F16C), ``_ytcaption_v4.abi3.so``
(AVX-512) and ``_ytcaption_v4vnni.abi3.so`` (AVX-512 with VNNI and VBMI: quantized models'
8-bit dot products in one instruction). :func:`load` imports the best one this CPU runs as ``ytcaption._ytcaption``. A build
from source (``pip install ./bindings/python``) has only ``_ytcaption`` (built for the machine
that compiled it), which is then imported as usual.

``YTCAPTION_CPU=v2`` (or ``v3``, ``v4``, ``v4vnni``) picks a level by hand: for a comparison, or where
``/proc/cpuinfo`` cannot be read.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import FrozenSet, Optional

#: /proc/cpuinfo flags each level needs (the x86-64 psABI levels; ``abm`` is LZCNT).
_V3 = frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"})
_V4 = _V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
_V4VNNI = _V4 | {"avx512_vnni", "avx512vbmi"}
_NEEDS = {"v4vnni": _V4VNNI, "v4": _V4, "v3": _V3}
#: The variant modules, best first.
_LEVELS = ("v4vnni", "v4", "v3")

#: The level of the module that was imported: ``"v2"``, ``"v3"``, ``"v4"``, ``"v4vnni"``, or ``"source"``
#: for a build without variants.
loaded = "source"


def cpu_flags() -> Optional[FrozenSet[str]]:
    """The CPU's feature flags from ``/proc/cpuinfo``; None where it cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return None


def load(package: str, here: str) -> ModuleType:
    """Imports ``<package>._ytcaption`` from the best variant file in ``here``."""
    global loaded
    name = f"{package}._ytcaption"
    variants = [lvl for lvl in _LEVELS if os.path.exists(_path(here, lvl))]
    if variants or os.environ.get("YTCAPTION_CPU"):
        wanted = os.environ.get("YTCAPTION_CPU", "").strip().lower()
        if wanted and wanted not in ("v2",) + _LEVELS:
            raise ImportError(f"YTCAPTION_CPU={wanted!r}: expected v2, v3, v4 or v4vnni")
        if wanted in _LEVELS:
            if wanted not in variants:
                raise ImportError(f"YTCAPTION_CPU={wanted}: this install has no {wanted} module")
            level = wanted
        elif wanted == "v2":
            level = "v2"
        else:
            flags = cpu_flags() or frozenset()
            level = next((lvl for lvl in variants if _NEEDS[lvl] <= flags), "v2")
        if level != "v2":
            path = _path(here, level)
            loader = importlib.machinery.ExtensionFileLoader(name, path)
            spec = importlib.util.spec_from_file_location(name, path, loader=loader)
            assert spec is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            loader.exec_module(module)
            loaded = level
            return module
        loaded = "v2" if variants else "source"
    return importlib.import_module(name)


def _path(here: str, level: str) -> str:
    return os.path.join(here, f"_ytcaption_{level}.abi3.so")
