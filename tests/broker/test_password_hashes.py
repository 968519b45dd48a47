"""Station password hashes are in the exact `$7$` format mosquitto_passwd writes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from stations.broker.passwords import check_password, hash_password, is_hash

MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")
# 101 iterations, a 12-byte salt (16 base64 characters), a 64-byte key (88 base64 characters).
SHAPE = re.compile(r"^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$")


def test_a_hash_has_mosquitto_passwd_shape_and_checks_against_its_password_only():
    encoded = hash_password("mat-khau")
    assert SHAPE.match(encoded)
    assert check_password("mat-khau", encoded)
    assert not check_password("mat-khau-khac", encoded)


def test_each_hash_gets_its_own_salt():
    assert hash_password("mat-khau") != hash_password("mat-khau")


def test_a_known_salt_gives_the_pbkdf2_sha512_key():
    # PBKDF2-HMAC-SHA512("secret", salt=12 zero bytes, 101 iterations), computed independently.
    import base64
    import hashlib

    key = hashlib.pbkdf2_hmac("sha512", b"secret", bytes(12), 101, 64)
    assert hash_password("secret", salt=bytes(12)) == f"$7$101${base64.b64encode(bytes(12)).decode()}$" + (
        base64.b64encode(key).decode()
    )


@pytest.mark.parametrize("encoded", ["", "secret", "$6$abc$def", "$7$101$!!!$abc", "$7$101$YWJj$"])
def test_malformed_hashes_never_check(encoded):
    assert not check_password("secret", encoded)
    assert not is_hash(encoded)


@pytest.mark.skipif(MOSQUITTO_PASSWD is None, reason="mosquitto_passwd không được cài (gói mosquitto)")
def test_a_hash_written_by_mosquitto_passwd_has_the_same_format_and_checks(tmp_path):
    path = tmp_path / "passwd"
    subprocess.run([MOSQUITTO_PASSWD, "-c", "-b", str(path), "tram1", "mat-khau"], check=True)
    user, encoded = path.read_text().strip().split(":", 1)
    assert user == "tram1"
    assert SHAPE.match(encoded)
    assert check_password("mat-khau", encoded)
    assert not check_password("khac", encoded)
