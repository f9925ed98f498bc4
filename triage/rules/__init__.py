"""IPIC-style rules kept as data: loading and validating rule packs, the
set-based evaluator (SQL) and the single-item trace.

A pack is a folder of TOML files (``rules/intel`` is the bundled one); see
``docs/rules.md`` for what each file means.
"""

from __future__ import annotations

from triage.rules.pack import Pack, PackError, load_pack

__all__ = ["Pack", "PackError", "load_pack"]
