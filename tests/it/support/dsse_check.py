"""Checks rebuild-compare's DSSE envelopes with PyPI's `cryptography`, as a
verifier that shares no code with rebuild-compare would.

  dsse_check.py verify PUBLIC_PEM ENVELOPE   prints `verified KEYID`, where
      KEYID is the sha256 of the key's SubjectPublicKeyInfo DER, after
      checking a signature over the DSSE v1 PAE (exit 1 if none verifies)
  dsse_check.py sign PRIVATE_PEM PAYLOAD     prints an envelope of PAYLOAD
      signed by the key (ECDSA P-256 SHA-256 DER, or Ed25519)
"""

import base64
import hashlib
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
except ImportError:
    sys.exit("python3 has no `cryptography` module: run scripts/install-test-deps.sh")

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public_key) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def verify(public_pem: str, envelope_path: str) -> None:
    with open(public_pem, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    with open(envelope_path, "rb") as f:
        envelope = json.load(f)
    if envelope["payloadType"] != PAYLOAD_TYPE:
        sys.exit(f"payloadType is {envelope['payloadType']}")
    message = pae(envelope["payloadType"], base64.b64decode(envelope["payload"]))
    for signature in envelope["signatures"]:
        sig = base64.b64decode(signature["sig"])
        try:
            if isinstance(public_key, ec.EllipticCurvePublicKey):
                public_key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
            else:
                public_key.verify(sig, message)
        except InvalidSignature:
            continue
        if signature["keyid"] != key_id(public_key):
            sys.exit(f"keyid {signature['keyid']} is not the key's {key_id(public_key)}")
        print(f"verified {signature['keyid']}")
        return
    sys.exit("no signature verifies with the key")


def sign(private_pem: str, payload_path: str) -> None:
    with open(private_pem, "rb") as f:
        private_key = serialization.load_pem_private_key(f.read(), password=None)
    with open(payload_path, "rb") as f:
        payload = f.read()
    message = pae(PAYLOAD_TYPE, payload)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        sig = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        sig = private_key.sign(message)
    else:
        sys.exit("unsupported key")
    print(json.dumps({
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": key_id(private_key.public_key()),
                        "sig": base64.b64encode(sig).decode()}],
    }))


if __name__ == "__main__":
    {"verify": verify, "sign": sign}[sys.argv[1]](*sys.argv[2:])
