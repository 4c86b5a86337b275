"""Encrypted keystores (Web3 Secret Storage, via eth_account) for headless signing.

The private key exists in plaintext only in memory, inside the LocalAccount `load_account` returns; it is never
written, logged or printed. Passwords come from a prompt or from an environment variable *named* by the user
(`--password-env NAME`), never from a command-line argument (which `ps` would show).
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from movieminter.errors import MovieMinterError

# scrypt work factor: None = eth_account's default (2**18, ~1 s per encrypt/decrypt: slow on purpose).
# Tests lower it to keep the suite fast; never lower it for real keystores.
SCRYPT_N: int | None = None


def _encrypt(key, password: str) -> dict:
    return Account.encrypt(key, password, kdf="scrypt", iterations=SCRYPT_N)


def _write_new(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: never overwrite a keystore; 0600: readable by its owner only
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise MovieMinterError(
            f"{path} already exists", hint="choose another file name; keystores are never overwritten"
        ) from None
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise MovieMinterError("the keystore password is too short", hint="use at least 8 characters")


def create_keystore(path: str | Path, password: str) -> str:
    """Creates a new random account encrypted with `password` at `path`; returns its address."""
    _check_password(password)
    account = Account.create()
    _write_new(Path(path), _encrypt(account.key, password))
    return account.address


def import_keystore(path: str | Path, private_key: str | bytes, password: str) -> str:
    """Encrypts an existing private key into a keystore at `path`; returns its address."""
    _check_password(password)
    try:
        account = Account.from_key(private_key)
    except (ValueError, TypeError):
        raise MovieMinterError(
            "that is not a valid private key", hint="paste the 64 hex digits (0x optional)"
        ) from None
    _write_new(Path(path), _encrypt(account.key, password))
    return account.address


def keystore_address(path: str | Path) -> str:
    """The address a keystore holds, without decrypting it."""
    data = _read(Path(path))
    if "address" not in data:
        raise MovieMinterError(f"{path} does not name its address", hint="recreate it with `movieminter keystore`")
    return "0x" + data["address"].removeprefix("0x")


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise MovieMinterError(
            f"keystore {path} not found", hint="create one with `movieminter keystore new`"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise MovieMinterError(
            f"{path} is not a keystore file",
            hint="a keystore is a JSON file (Web3 Secret Storage); plaintext keys are not accepted",
        ) from None
    if not isinstance(data, dict) or "crypto" not in data and "Crypto" not in data:
        raise MovieMinterError(
            f"{path} is not an encrypted keystore",
            hint="plaintext keys are not accepted; import the key with `movieminter keystore import`",
        )
    return data


def load_account(path: str | Path, password: str) -> LocalAccount:
    """Decrypts a keystore; a wrong password raises MovieMinterError (the message never contains secrets)."""
    data = _read(Path(path))
    try:
        key = Account.decrypt(data, password)
    except ValueError:
        raise MovieMinterError(f"wrong password for keystore {Path(path).name}", hint="try again") from None
    return Account.from_key(key)


def read_password(env_var: str | None = None, *, confirm: bool = False, prompt: str = "Keystore password: ") -> str:
    """The password from the environment variable named `env_var`, else from an interactive prompt."""
    if env_var:
        value = os.environ.get(env_var)
        if value is None:
            raise MovieMinterError(
                f"environment variable {env_var} is not set",
                hint=f"export {env_var}=... or omit --password-env to be prompted",
            )
        return value
    password = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat the password: ") != password:
        raise MovieMinterError("the passwords differ", hint="type the same password twice")
    return password
