"""The shape of a key: `folio_`, 30 random base62 characters, then a CRC32 checksum.

The prefix lets secret scanners find leaked keys; the checksum lets a typo or a truncated
key be refused without a database lookup. Only the SHA-256 of a key is stored: the key
is 178 random bits, so a fast hash is as safe as a slow one and costs microseconds.
"""

import hashlib
import hmac
import secrets
import zlib

KEY_PREFIX = "folio_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_CHARACTERS = 30  # 30 * log2(62) = 178 bits
CHECKSUM_CHARACTERS = 6  # 62**6 > 2**32
KEY_LENGTH = len(KEY_PREFIX) + RANDOM_CHARACTERS + CHECKSUM_CHARACTERS
SHOWN_CHARACTERS = len(KEY_PREFIX) + 6


def base62(number: int, width: int) -> str:
    """`number` in base 62, left-padded with zeros to `width` characters."""
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits)).rjust(width, ALPHABET[0])


def checksum(body: str) -> str:
    return base62(zlib.crc32(body.encode()), CHECKSUM_CHARACTERS)


def new_key() -> str:
    """A fresh key from the operating system's cryptographic random source."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARACTERS))
    return f"{KEY_PREFIX}{body}{checksum(body)}"


def well_formed(key: str) -> bool:
    """Tell whether a key has the right prefix, length, alphabet and checksum."""
    if len(key) != KEY_LENGTH or not key.startswith(KEY_PREFIX):
        return False
    body = key[len(KEY_PREFIX) : -CHECKSUM_CHARACTERS]
    if any(character not in ALPHABET for character in body):
        return False
    return hmac.compare_digest(key[-CHECKSUM_CHARACTERS:], checksum(body))


def hash_key(key: str) -> str:
    """The form a key is stored and looked up in."""
    return hashlib.sha256(key.encode()).hexdigest()


def shown_prefix(key: str) -> str:
    """The part of a key that may be shown and stored in the clear."""
    return key[:SHOWN_CHARACTERS]
