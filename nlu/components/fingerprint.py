"""A digest of the source of the pure modules a Rasa component delegates to."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType


def source_fingerprint(*modules: ModuleType) -> str:
    """Changes whenever the code of one of `modules` changes (for Rasa's training cache)."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()
