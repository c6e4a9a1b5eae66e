"""Key ring: JSON format, files, rotation, and the exported front."""

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import dinhdanh.crypto
from dinhdanh.crypto import (
    CryptoError,
    KeyRing,
    blind_index,
    generate_keyring,
    keyring_from_json,
    keyring_to_json,
    load_keyring,
    open_sealed,
    rotate,
    save_keyring,
    seal,
    sign_hybrid,
    verify_hybrid,
    wrap_key,
)
from dinhdanh.crypto.keyring import retire_token_version

CONTEXT = b"citizen.full_name"


def test_exported_members() -> None:
    assert sorted(dinhdanh.crypto.__all__) == sorted(
        [
            "CryptoError",
            "KeyRing",
            "blind_index",
            "blind_indexes",
            "generate_keyring",
            "hybrid_public_keys",
            "keyring_from_json",
            "keyring_to_json",
            "load_keyring",
            "open_sealed",
            "rotate",
            "save_keyring",
            "seal",
            "sign_hybrid",
            "unwrap_key",
            "verify_hybrid",
            "wrap_key",
        ]
    )
    for name in dinhdanh.crypto.__all__:
        assert getattr(dinhdanh.crypto, name).__module__.startswith("dinhdanh.crypto")


def test_versions_are_read_only(ring: KeyRing) -> None:
    assert (ring.seal_version, ring.sign_version) == (1, 1)
    with pytest.raises(AttributeError):
        ring.seal_version = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ring.anything = 1  # type: ignore[attr-defined]


def test_repr_shows_no_key_material(ring: KeyRing) -> None:
    assert repr(ring) == "KeyRing(seal_version=1, sign_version=1)"


def test_json_format(ring: KeyRing) -> None:
    doc = json.loads(keyring_to_json(ring))
    assert doc["format"] == "dinhdanh-keyring/1"
    assert len(base64.b64decode(doc["kek"]["x25519"])) == 32
    assert len(base64.b64decode(doc["kek"]["mlkem768"])) == 64
    assert doc["seal"]["current"] == 1
    assert set(doc["seal"]["keys"]) == {"1"}
    assert set(doc["sign"]["keys"]["1"]) == {"ed25519", "mldsa65"}
    # Data keys are stored wrapped: 0x01 || eph (32) || ML-KEM ct (1088) || nonce || ct+tag.
    for wrapped in (doc["seal"]["keys"]["1"], doc["blind"], doc["sign"]["keys"]["1"]["ed25519"]):
        assert len(base64.b64decode(wrapped)) == 1 + 32 + 1088 + 12 + 32 + 16


def test_json_round_trip(ring: KeyRing) -> None:
    token = seal(ring, b"Tran Thi B", CONTEXT)
    signature = sign_hybrid(ring, b"data")
    reloaded = keyring_from_json(keyring_to_json(ring))
    assert open_sealed(reloaded, token, CONTEXT) == b"Tran Thi B"
    assert open_sealed(ring, seal(reloaded, b"x", CONTEXT), CONTEXT) == b"x"
    verify_hybrid(reloaded, b"data", signature)
    verify_hybrid(ring, b"data", sign_hybrid(reloaded, b"data"))
    assert blind_index(reloaded, "v", "p") == blind_index(ring, "v", "p")


def test_rotated_json_round_trip(ring: KeyRing) -> None:
    old = seal(ring, b"old", CONTEXT)
    twice = rotate(rotate(ring))
    reloaded = keyring_from_json(keyring_to_json(twice))
    assert (reloaded.seal_version, reloaded.sign_version) == (3, 3)
    assert open_sealed(reloaded, old, CONTEXT) == b"old"
    assert sorted(json.loads(keyring_to_json(twice))["seal"]["keys"]) == ["1", "2", "3"]


def test_rotate_leaves_the_original_alone(ring: KeyRing) -> None:
    rotate(ring)
    assert (ring.seal_version, ring.sign_version) == (1, 1)


def test_save_and_load(ring: KeyRing, tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys" / "keyring.json"
    save_keyring(ring, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = seal(ring, b"abc", CONTEXT)
    assert open_sealed(load_keyring(path), token, CONTEXT) == b"abc"
    assert os.listdir(path.parent) == ["keyring.json"]  # no temporary file left behind


def test_save_replaces_a_looser_file(ring: KeyRing, tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    path.write_text("old")
    path.chmod(0o644)
    save_keyring(ring, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    load_keyring(path)


def test_save_mode_ignores_a_permissive_umask(ring: KeyRing, tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        save_keyring(ring, tmp_path / "keyring.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "keyring.json").stat().st_mode) == 0o600


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match=r"cannot read key ring .*missing\.json"):
        load_keyring(tmp_path / "missing.json")


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match="cannot read key ring"):
        load_keyring(tmp_path)


def test_load_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    path.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(CryptoError):
        load_keyring(path)


def _valid(ring: KeyRing) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keyring_to_json(ring))
    return doc


def _set(doc: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = doc
    for name in parents:
        node = node[name]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


_DELETE = object()
_OTHER = generate_keyring()

BROKEN: list[tuple[str, object, str]] = [
    ("format", _DELETE, "missing field 'format'"),
    ("format", "dinhdanh-keyring/2", "'format' must be"),
    ("kek", _DELETE, "missing field 'kek'"),
    ("kek", [], "kek must be a JSON object"),
    ("kek.x25519", _DELETE, "missing field 'kek.x25519'"),
    ("kek.x25519", "not base64!", "'kek.x25519' is not valid base64"),
    ("kek.x25519", 42, "'kek.x25519' must be a base64 string"),
    ("kek.mlkem768", base64.b64encode(bytes(32)).decode(), "'kek.mlkem768' must decode to 64"),
    ("seal", _DELETE, "missing field 'seal'"),
    ("seal.current", _DELETE, "missing field 'seal.current'"),
    ("seal.current", "1", "'seal.current' must be an integer"),
    ("seal.current", True, "'seal.current' must be an integer"),
    ("seal.current", 7, "'seal.current' (7) has no key"),
    ("seal.keys", {}, "'seal.keys' must be a non-empty object"),
    ("seal.keys.01", "AAAA", "bad version '01'"),
    ("seal.keys.0", "AAAA", "version"),
    ("seal.keys.1", "AAAA", "'seal.keys.1' does not unwrap"),
    ("blind", _DELETE, "missing field 'blind'"),
    ("blind", None, "'blind' must be a base64 string"),
    ("sign", _DELETE, "missing field 'sign'"),
    ("sign.current", 2, "'sign.current' (2) has no key"),
    ("sign.keys.1", "x", "sign.keys.1 must be a JSON object"),
    ("sign.keys.1.mldsa65", _DELETE, "missing field 'sign.keys.1.mldsa65'"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    BROKEN,
    # The same ids in every process (xdist workers compare them): no object address.
    ids=[f"{p}={'<deleted>' if v is _DELETE else repr(v)}"[:40] for p, v, _ in BROKEN],
)
def test_from_json_reports_the_broken_field(
    ring: KeyRing, path: str, value: object, message: str
) -> None:
    doc = _set(_valid(ring), path, value)
    with pytest.raises(CryptoError) as info:
        keyring_from_json(json.dumps(doc))
    text = str(info.value)
    assert message in text
    assert text.startswith("invalid key ring: ")
    assert "\n" not in text


@pytest.mark.parametrize("text", ["", "not json", "[]", "null", "42", '"x"', "{"])
def test_from_json_garbage(text: str) -> None:
    with pytest.raises(CryptoError, match=r"^invalid key ring: "):
        keyring_from_json(text)


def test_another_rings_kek_cannot_open_the_keys(ring: KeyRing) -> None:
    doc = _valid(ring)
    doc["kek"] = _valid(_OTHER)["kek"]
    with pytest.raises(CryptoError, match="does not unwrap under this key ring's KEK"):
        keyring_from_json(json.dumps(doc))


def test_wrapped_key_of_the_wrong_length(ring: KeyRing) -> None:
    doc = _valid(ring)
    doc["blind"] = base64.b64encode(wrap_key(ring, bytes(16))).decode()
    with pytest.raises(CryptoError, match="'blind' must unwrap to 32 bytes"):
        keyring_from_json(json.dumps(doc))


def test_error_messages_carry_no_key_material(ring: KeyRing) -> None:
    doc = _valid(ring)
    secrets = [doc["kek"]["x25519"], doc["kek"]["mlkem768"], doc["blind"]]
    wrapped = base64.b64decode(doc["seal"]["keys"]["1"])
    doc["seal"]["keys"]["1"] = base64.b64encode(wrapped[:-1] + b"\x00").decode()
    with pytest.raises(CryptoError) as info:
        keyring_from_json(json.dumps(doc))
    assert info.value.__cause__ is None
    for secret in [*secrets, doc["seal"]["keys"]["1"]]:
        assert secret[:16] not in str(info.value)


def test_a_retired_signing_version_round_trips_and_survives_rotation(ring: KeyRing) -> None:
    signature = sign_hybrid(ring, b"checkpoint")  # signed by version 1
    retired = retire_token_version(rotate(ring), 1)
    assert retired.token_retired == frozenset({1})
    reloaded = keyring_from_json(keyring_to_json(retired))
    assert reloaded.token_retired == frozenset({1})
    assert json.loads(keyring_to_json(retired))["sign"]["token_retired"] == [1]
    assert rotate(reloaded).token_retired == frozenset({1})
    verify_hybrid(reloaded, b"checkpoint", signature)  # audit checkpoints still verify
    assert "token_retired" not in json.loads(keyring_to_json(ring))["sign"]


def test_only_an_old_existing_version_retires(ring: KeyRing) -> None:
    with pytest.raises(CryptoError, match="current"):
        retire_token_version(ring, 1)
    with pytest.raises(CryptoError, match="no signing key version 7"):
        retire_token_version(rotate(ring), 7)
    doc = json.loads(keyring_to_json(rotate(ring)))
    for bad in ([2], [5], "1", [True]):
        doc["sign"]["token_retired"] = bad
        with pytest.raises(CryptoError):
            keyring_from_json(json.dumps(doc))
