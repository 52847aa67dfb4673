"""The shape of a key: prefix, randomness, checksum, and what is stored of it."""

import hashlib
import math

from app.keys.secrets import (
    ALPHABET,
    KEY_PREFIX,
    RANDOM_CHARACTERS,
    hash_key,
    new_key,
    shown_prefix,
    well_formed,
)


def test_a_key_has_the_prefix_and_at_least_128_random_bits() -> None:
    key = new_key()
    assert key.startswith("folio_")
    assert RANDOM_CHARACTERS * math.log2(len(ALPHABET)) >= 128
    assert well_formed(key)
    assert len({new_key() for _ in range(1000)}) == 1000


def test_a_typo_breaks_the_checksum() -> None:
    key = new_key()
    position = len(KEY_PREFIX) + 3
    replacement = "a" if key[position] != "a" else "b"
    typo = key[:position] + replacement + key[position + 1 :]
    assert not well_formed(typo)
    assert not well_formed(key[:-1])
    assert not well_formed(key + "x")
    assert not well_formed("other_" + key[len(KEY_PREFIX) :])
    assert not well_formed("")


def test_only_a_sha256_and_a_short_prefix_are_kept() -> None:
    key = new_key()
    assert hash_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(shown_prefix(key))
    assert len(shown_prefix(key)) <= len(KEY_PREFIX) + 6
