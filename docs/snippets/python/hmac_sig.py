# snippet:start
import hashlib
import hmac


def verify_hmac(secret, header_value, raw_body, prefix=""):
    """Check a hex HMAC-SHA256 of the raw body.

    header_value comes from "Signature" (ProductLift), "X-Signature", or
    "X-Hub-Signature-256" with prefix "sha256=" (GitHub's form). The secret
    is used as written.
    """
    if not header_value:
        return False
    expected = prefix + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header_value.encode(), expected.encode())
# usage: verify_hmac(secret, request.headers.get("X-Signature"), request.get_data())
# snippet:end


# Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
# in WEBHOOK_SECRET, the header in WEBHOOK_HEADER and the prefix in
# WEBHOOK_PREFIX; exits 0 when the delivery verifies.
if __name__ == "__main__":
    import base64
    import json
    import os
    import sys

    data = json.load(sys.stdin)
    body = base64.b64decode(data["body"])
    value = data["headers"].get(os.environ.get("WEBHOOK_HEADER", "x-signature"))
    ok = verify_hmac(os.environ["WEBHOOK_SECRET"], value, body, os.environ.get("WEBHOOK_PREFIX", ""))
    sys.exit(0 if ok else 1)
