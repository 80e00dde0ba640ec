"""The key that encrypts QuickBooks tokens at rest, and the cipher (cryptography's Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from TOKEN_ENCRYPTION_KEY, else from a key file outside the database (TOKEN_KEY_FILE, beside .env),
created 0600 on first start. A copied database or backup therefore holds no usable token. A file that is missing
while the database holds encrypted tokens is never replaced by a new key: that would lose the connection silently.
Key values never appear in a message, a repr or a log line.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)
PREFIX = "fernet:"  # marks an encrypted value; a stored value without it is a plaintext token from before


class TokenKeyError(Exception):
    """The key cannot decrypt the stored tokens, or cannot be read or made; the message says what to do."""


class TokenCipher:
    """Seals and opens token values with one Fernet key."""

    def __init__(self, key: bytes, *, source: str = "a key") -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise TokenKeyError(f"{source} is not a Fernet key (32 bytes of url-safe base64)") from None
        self.source = source  # where the key came from, for messages: never the key itself

    def __repr__(self) -> str:
        return f"TokenCipher(source={self.source!r})"

    @classmethod
    def generate(cls) -> TokenCipher:
        """A cipher with a new random key (tests, and the in-memory database)."""
        return cls(Fernet.generate_key(), source="a generated key")

    def seal(self, value: str | None) -> str | None:
        """The value encrypted (None stays None)."""
        return None if value is None else PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The plaintext of a sealed value; TokenKeyError when this key did not seal it."""
        if value is None or not is_sealed(value):
            return value
        try:
            return self._fernet.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise TokenKeyError(wrong_key(self.source)) from None


def is_sealed(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX)


def wrong_key(source: str) -> str:
    return (f"the QuickBooks tokens in the database were encrypted with another key than {source}: restore the "
            f"key that encrypted them (TOKEN_ENCRYPTION_KEY or the key file TOKEN_KEY_FILE). {lost_key()}")


def key_file_path(settings) -> str:
    """TOKEN_KEY_FILE; for Settings made without from_env (tests), beside the database file."""
    return settings.token_key_file or f"{settings.database_path}.key"


def load_cipher(settings, *, holds_sealed: bool) -> TokenCipher:
    """The cipher for these settings: TOKEN_ENCRYPTION_KEY, else the key file (made when there is none and the
    database holds no encrypted token yet)."""
    if settings.token_encryption_key:
        return TokenCipher(settings.token_encryption_key.encode(), source="TOKEN_ENCRYPTION_KEY")
    if settings.database_path == ":memory:" and not settings.token_key_file:
        return TokenCipher.generate()
    path = Path(key_file_path(settings))
    if not path.exists():
        if holds_sealed:
            raise TokenKeyError(f"the key file {path} (TOKEN_KEY_FILE) is missing, but the database holds encrypted "
                                f"QuickBooks tokens: restore the file, or set TOKEN_ENCRYPTION_KEY. {lost_key()}")
        return TokenCipher(create_key_file(path), source=f"the key file {path}")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s (the token key) is readable by other users: run `chmod 600 %s`", path, path)
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise TokenKeyError(f"cannot read the key file {path} (TOKEN_KEY_FILE): {exc.strerror}") from None
    return TokenCipher(key, source=f"the key file {path}")


def lost_key() -> str:
    return ("If it is lost, run `python bot.py connect-quickbooks --discard-tokens` to drop the unreadable tokens and "
            "connect again (the bot never does that by itself)")


def create_key_file(path: Path) -> bytes:
    """Write a new key to `path`, readable by its owner only (O_EXCL: two processes starting at once make one)."""
    key = Fernet.generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:  # another process made it first: use that one
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    log.info("created the token key file %s (mode 0600): keep it with .env, not with database backups", path)
    return key
