import json
from pathlib import Path
from typing import Any

import pytest

from dinhdanh.crypto import KeyRing, generate_keyring, rotate

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors"


def load_vectors(name: str) -> list[dict[str, Any]]:
    """The cases in ``tests/vectors/<name>.json``: a list, or a ``{"vectors": [...]}`` object."""
    data = json.loads((VECTORS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    cases = data["vectors"] if isinstance(data, dict) else data
    assert isinstance(cases, list)
    assert cases, f"no vectors in {name}.json"
    return cases


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return generate_keyring()


@pytest.fixture(scope="module")
def other_ring() -> KeyRing:
    return generate_keyring()


@pytest.fixture(scope="module")
def rotated(ring: KeyRing) -> KeyRing:
    return rotate(ring)
