"""The badge code's signature, checked by the server by signing again (credential._genuine), agrees with
what a scanner's verification with the event's public key says (docs/BADGE_CODE.md, step 4)."""
import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from eventreg.badges import credential
from eventreg.badges.credential import BadgeCode, InvalidCode

SECRET = "a secret key for the badge code tests"


def raw(code):
    text = code[len(credential.PREFIX):]
    return base64.b32decode(text + "=" * (-len(text) % 8))


def encoded(data):
    return credential.PREFIX + base64.b32encode(data).decode().rstrip("=")


def scanner_accepts(code, event_id):
    """What an offline scanner decides with the public key alone."""
    data = raw(code)
    key = Ed25519PublicKey.from_public_bytes(credential.public_key_bytes(SECRET, event_id))
    try:
        key.verify(data[11:], data[:11])
    except InvalidSignature:
        return False
    return True


def test_an_issued_code_is_accepted_by_the_server_and_by_a_scanner():
    code = credential.encode(SECRET, BadgeCode(7, 1234, 2))
    assert credential.decode(SECRET, code, 7) == BadgeCode(7, 1234, 2)
    assert scanner_accepts(code, 7)


@pytest.mark.parametrize("position", [11, 12, 30, 42, 43, 60, 74])
def test_a_signature_changed_in_any_byte_is_refused_by_both(position):
    data = bytearray(raw(credential.encode(SECRET, BadgeCode(7, 99, 1))))
    data[position] ^= 0x01
    forged = encoded(bytes(data))
    assert not scanner_accepts(forged, 7)
    with pytest.raises(InvalidCode, match="bad_signature"):
        credential.decode(SECRET, forged, 7)


def test_a_body_changed_under_a_genuine_signature_is_refused_by_both():
    data = bytearray(raw(credential.encode(SECRET, BadgeCode(7, 99, 1))))
    data[8] ^= 0x01  # another person's registration id, the same signature
    forged = encoded(bytes(data))
    assert not scanner_accepts(forged, 7)
    with pytest.raises(InvalidCode, match="bad_signature"):
        credential.decode(SECRET, forged, 7)


def test_a_code_signed_with_another_events_key_is_refused_by_both():
    """The body says event 7, the signature is event 8's key's: another event's key signs nothing here."""
    body = raw(credential.encode(SECRET, BadgeCode(7, 99, 1)))[:11]
    forged = encoded(body + credential.signing_key(SECRET, 8).sign(body))
    assert not scanner_accepts(forged, 7)
    with pytest.raises(InvalidCode, match="bad_signature"):
        credential.decode(SECRET, forged, 7)
    with pytest.raises(InvalidCode, match="bad_signature"):
        credential.decode("another app's secret", credential.encode(SECRET, BadgeCode(7, 99, 1)), 7)
