"""The key ring: a key-encryption key (KEK) and the data keys wrapped under it.

The KEK is a hybrid pair, X25519 + ML-KEM-768 (stored as its 64-byte seed). Every other key
is stored wrapped under it (``HybridKek.wrap``), so the KEK alone can later move to an HSM or
the environment while the rest of the file stays as it is:

- seal keys, AES-256-GCM, one per version; ``current`` encrypts, all versions decrypt;
- the blind-index key, HMAC-SHA-256; it never rotates, since rotating it breaks lookups;
- signing seeds, Ed25519 + ML-DSA-65, one pair per version; ``current`` signs, all verify.

JSON (b64 = standard base64)::

    {"format": "dinhdanh-keyring/1",
     "kek": {"x25519": b64, "mlkem768": b64},
     "seal": {"current": N, "keys": {"1": wrapped_b64, ...}},
     "blind": wrapped_b64,
     "sign": {"current": N, "keys": {"1": {"ed25519": wrapped_b64, "mldsa65": wrapped_b64}}}}

Everything is unwrapped once at load; the AES-GCM and signing key objects are built once and
cached, because seal and blind_index run several times per row of a bulk import.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
from collections.abc import Collection, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dinhdanh.crypto._primitives import (
    AES_KEY_LEN,
    MLKEM768_SEED_LEN,
    SEED_LEN,
    X25519_LEN,
    CryptoError,
    HmacSha256,
    HybridKek,
    HybridSigner,
    aes_gcm,
    random_key,
)

FORMAT = "dinhdanh-keyring/1"
SEAL_FORMAT = b"\x01"
SIGNATURE_FORMAT = b"\x01"
_MAX_VERSION = 2**32 - 1


def version_header(fmt: bytes, version: int) -> bytes:
    """The 5-byte header of a sealed token or a signature: format byte, version (4 BE)."""
    return fmt + version.to_bytes(4, "big")


class KeyRing:
    """All keys, unwrapped and ready. Build one with ``generate_keyring`` or ``load_keyring``.

    Attributes starting with ``_`` are read by the recipes in ``dinhdanh.crypto`` only.
    """

    __slots__ = (
        "_blind",
        "_blind_key",
        "_kek",
        "_public_keys",
        "_seal_aead",
        "_seal_by_header",
        "_seal_header",
        "_seal_keys",
        "_seal_version",
        "_sign_header",
        "_sign_seeds",
        "_sign_version",
        "_signer",
        "_signers",
        "_token_retired",
    )

    def __init__(
        self,
        *,
        kek: HybridKek,
        seal_keys: Mapping[int, bytes],
        seal_version: int,
        blind_key: bytes,
        sign_seeds: Mapping[int, tuple[bytes, bytes]],
        sign_version: int,
        token_retired: Collection[int] = (),
    ) -> None:
        for label, versions, current in (
            ("seal", seal_keys, seal_version),
            ("sign", sign_seeds, sign_version),
        ):
            if any(not 1 <= v <= _MAX_VERSION for v in versions):
                raise CryptoError(f"key ring: {label} versions must be 1..{_MAX_VERSION}")
            if current not in versions:
                raise CryptoError(f"key ring: {label} current version {current} has no key")
        if len(blind_key) != AES_KEY_LEN:
            raise CryptoError("key ring: blind-index key must be 32 bytes")
        if not set(token_retired) <= set(sign_seeds) or sign_version in token_retired:
            raise CryptoError("key ring: only an existing, non-current sign version can retire")

        self._kek = kek
        self._seal_keys = MappingProxyType(dict(seal_keys))
        self._seal_version = seal_version
        self._seal_by_header: dict[bytes, AESGCM] = {
            version_header(SEAL_FORMAT, v): aes_gcm(k) for v, k in seal_keys.items()
        }
        self._seal_header = version_header(SEAL_FORMAT, seal_version)
        self._seal_aead = self._seal_by_header[self._seal_header]
        self._blind_key = blind_key
        self._blind = HmacSha256(blind_key)
        self._sign_seeds = MappingProxyType(dict(sign_seeds))
        self._sign_version = sign_version
        # Signing versions no longer used for tokens (keys.retire_token_version); they still
        # verify the audit checkpoints they signed.
        self._token_retired = frozenset(token_retired)
        self._signers: dict[bytes, HybridSigner] = {
            version_header(SIGNATURE_FORMAT, v): HybridSigner(ed, ml)
            for v, (ed, ml) in sign_seeds.items()
        }
        self._sign_header = version_header(SIGNATURE_FORMAT, sign_version)
        self._signer = self._signers[self._sign_header]
        self._public_keys = MappingProxyType(
            {v: self._signers[version_header(SIGNATURE_FORMAT, v)].public_raw for v in sign_seeds}
        )

    @property
    def seal_version(self) -> int:
        """Version new ciphertexts are sealed under."""
        return self._seal_version

    @property
    def sign_version(self) -> int:
        """Version new signatures are made under."""
        return self._sign_version

    @property
    def token_retired(self) -> frozenset[int]:
        """Signing versions retired from tokens: not published, not accepted."""
        return self._token_retired

    def __repr__(self) -> str:
        return f"KeyRing(seal_version={self._seal_version}, sign_version={self._sign_version})"


def generate_keyring() -> KeyRing:
    """A fresh ring: new KEK, seal key v1, blind-index key, signing key v1."""
    return KeyRing(
        kek=HybridKek.generate(),
        seal_keys={1: random_key()},
        seal_version=1,
        blind_key=random_key(),
        sign_seeds={1: (random_key(), random_key())},
        sign_version=1,
    )


def _changed(ring: KeyRing, **changes: Any) -> KeyRing:
    """A copy of ``ring`` with some of its constructor arguments replaced."""
    fields: dict[str, Any] = {
        "kek": ring._kek,
        "seal_keys": ring._seal_keys,
        "seal_version": ring._seal_version,
        "blind_key": ring._blind_key,
        "sign_seeds": ring._sign_seeds,
        "sign_version": ring._sign_version,
        "token_retired": ring._token_retired,
    }
    return KeyRing(**(fields | changes))


def rotate(ring: KeyRing) -> KeyRing:
    """New seal and signing versions; old ones stay so old tokens open and old signatures verify.

    The blind-index key stays: every stored index would stop matching.
    """
    seal_version = max(ring._seal_keys) + 1
    sign_version = max(ring._sign_seeds) + 1
    return _changed(
        ring,
        seal_keys={**ring._seal_keys, seal_version: random_key()},
        seal_version=seal_version,
        sign_seeds={**ring._sign_seeds, sign_version: (random_key(), random_key())},
        sign_version=sign_version,
    )


def retire_token_version(ring: KeyRing, version: int) -> KeyRing:
    """Stop using signing ``version`` for tokens: it leaves the JWK Set and tokens it signed
    stop verifying. It stays in the ring, so audit checkpoints it signed still verify.

    Ends the overlap period that ``rotate`` opens. The current version cannot retire.
    """
    if version not in ring._sign_seeds:
        raise CryptoError(f"no signing key version {version} in the key ring")
    if version == ring._sign_version:
        raise CryptoError(f"signing key version {version} is the current one: rotate first")
    return _changed(ring, token_retired=ring._token_retired | {version})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def keyring_to_json(ring: KeyRing) -> str:
    """Serialize; data keys are wrapped afresh under the KEK (so output differs per call)."""
    kek = ring._kek
    x25519, mlkem768 = kek.raw()
    sign: dict[str, object] = {
        "current": ring._sign_version,
        "keys": {
            str(v): {"ed25519": _b64(kek.wrap(ed)), "mldsa65": _b64(kek.wrap(ml))}
            for v, (ed, ml) in sorted(ring._sign_seeds.items())
        },
    }
    if ring._token_retired:  # optional: rings without it read as before
        sign["token_retired"] = sorted(ring._token_retired)
    doc = {
        "format": FORMAT,
        "kek": {"x25519": _b64(x25519), "mlkem768": _b64(mlkem768)},
        "seal": {
            "current": ring._seal_version,
            "keys": {str(v): _b64(kek.wrap(k)) for v, k in sorted(ring._seal_keys.items())},
        },
        "blind": _b64(kek.wrap(ring._blind_key)),
        "sign": sign,
    }
    return json.dumps(doc, indent=2) + "\n"


def _get(obj: object, name: str, where: str) -> object:
    path = f"{where}.{name}" if where else name
    if not isinstance(obj, dict):
        raise CryptoError(f"invalid key ring: {where or 'document'} must be a JSON object")
    if name not in obj:
        raise CryptoError(f"invalid key ring: missing field '{path}'")
    value: object = obj[name]
    return value


def _decode(value: object, where: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise CryptoError(f"invalid key ring: '{where}' must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError(f"invalid key ring: '{where}' is not valid base64") from None
    if length and len(raw) != length:
        raise CryptoError(f"invalid key ring: '{where}' must decode to {length} bytes")
    return raw


def _unwrap(kek: HybridKek, value: object, where: str, length: int) -> bytes:
    wrapped = _decode(value, where, 0)
    try:
        key = kek.unwrap(wrapped)
    except CryptoError:
        raise CryptoError(
            f"invalid key ring: '{where}' does not unwrap under this key ring's KEK"
        ) from None
    if len(key) != length:
        raise CryptoError(f"invalid key ring: '{where}' must unwrap to {length} bytes")
    return key


def _versions(section: object, where: str) -> tuple[int, dict[int, object]]:
    current = _get(section, "current", where)
    keys = _get(section, "keys", where)
    if isinstance(current, bool) or not isinstance(current, int):
        raise CryptoError(f"invalid key ring: '{where}.current' must be an integer")
    if not isinstance(keys, dict) or not keys:
        raise CryptoError(f"invalid key ring: '{where}.keys' must be a non-empty object")
    out: dict[int, object] = {}
    for name, value in keys.items():
        # Canonical decimal only, so "1" and "01" can't both name version 1.
        if not (name.isascii() and name.isdigit() and str(int(name)) == name):
            raise CryptoError(f"invalid key ring: '{where}.keys' has a bad version {name!r}")
        if not 1 <= int(name) <= _MAX_VERSION:
            raise CryptoError(f"invalid key ring: '{where}.keys' has a bad version {name!r}")
        out[int(name)] = value
    if current not in out:
        raise CryptoError(f"invalid key ring: '{where}.current' ({current}) has no key")
    return current, out


def keyring_from_json(text: str) -> KeyRing:
    """Parse and unwrap a key ring; any problem is one ``CryptoError`` line."""
    try:
        doc: object = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise CryptoError("invalid key ring: not JSON") from None
    if not isinstance(doc, dict):
        raise CryptoError("invalid key ring: document must be a JSON object")
    if _get(doc, "format", "") != FORMAT:
        raise CryptoError(f"invalid key ring: 'format' must be {FORMAT!r}")

    kek_doc = _get(doc, "kek", "")
    kek = HybridKek.from_raw(
        _decode(_get(kek_doc, "x25519", "kek"), "kek.x25519", X25519_LEN),
        _decode(_get(kek_doc, "mlkem768", "kek"), "kek.mlkem768", MLKEM768_SEED_LEN),
    )

    seal_version, seal_wrapped = _versions(_get(doc, "seal", ""), "seal")
    seal_keys = {v: _unwrap(kek, w, f"seal.keys.{v}", AES_KEY_LEN) for v, w in seal_wrapped.items()}
    blind_key = _unwrap(kek, _get(doc, "blind", ""), "blind", AES_KEY_LEN)

    sign_doc = _get(doc, "sign", "")
    sign_version, sign_wrapped = _versions(sign_doc, "sign")
    sign_seeds: dict[int, tuple[bytes, bytes]] = {}
    for v, pair in sign_wrapped.items():
        where = f"sign.keys.{v}"
        sign_seeds[v] = (
            _unwrap(kek, _get(pair, "ed25519", where), f"{where}.ed25519", SEED_LEN),
            _unwrap(kek, _get(pair, "mldsa65", where), f"{where}.mldsa65", SEED_LEN),
        )

    retired = sign_doc.get("token_retired", []) if isinstance(sign_doc, dict) else []
    if not isinstance(retired, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in retired
    ):
        raise CryptoError("invalid key ring: 'sign.token_retired' must be a list of versions")
    return KeyRing(
        kek=kek,
        seal_keys=seal_keys,
        seal_version=seal_version,
        blind_key=blind_key,
        sign_seeds=sign_seeds,
        sign_version=sign_version,
        token_retired=retired,
    )


def load_keyring(path: Path) -> KeyRing:
    """Read and parse a key ring file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CryptoError(f"cannot read key ring {path}: {reason}") from None
    return keyring_from_json(text)


def save_keyring(ring: KeyRing, path: Path) -> None:
    """Write atomically: a 0600 temporary file beside ``path``, fsync, then ``os.replace``.

    The mode is set at creation, so the keys are never readable by others, not even briefly.
    """
    data = keyring_to_json(ring).encode("utf-8")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    # Make the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
