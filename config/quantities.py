"""Resource quantities as KubeSpawner reads them (JupyterHub's ByteSpecification: K, M, G, T are powers of 1024)."""

from __future__ import annotations

import re

_MEMORY = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<unit>[KMGT]i?)?$")
_FACTORS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}

MEMORY_HINT = "a byte size such as 512M, 4G or 1.5G (units K, M, G, T; Ki/Mi/Gi/Ti also accepted)"


def memory_bytes(value: str) -> int:
    match = _MEMORY.match(value)
    if not match:
        raise ValueError(f"{value!r} is not {MEMORY_HINT}")
    unit = (match["unit"] or "").rstrip("i")
    return int(float(match["number"]) * _FACTORS.get(unit, 1))


def normalize_memory(value: str | int) -> str:
    """`4Gi` -> `4G`: KubeSpawner reads both the same, the chart's docs use the short form."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        # KubeSpawner would take it as bytes: nobody means a server of 4096 bytes.
        raise ValueError(f"{text} has no unit, so it would be {text} bytes: write {text}M or a size such as 4G "
                         "(units K, M, G, T)")
    if memory_bytes(text) <= 0:
        raise ValueError(f"{text!r} must be more than zero")
    return text[:-1] if text.endswith("i") else text


def format_bytes(size: float) -> str:
    for unit in ("T", "G", "M", "K"):
        if abs(size) >= _FACTORS[unit]:
            return f"{size / _FACTORS[unit]:.3g}{unit}"
    return f"{size:.0f}"
