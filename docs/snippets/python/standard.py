# snippet:start
import base64
import hashlib
import hmac
import time


def verify_standard(secret, headers, raw_body, tolerance=300):
    """Check a Standard Webhooks delivery (outhook's default).

    headers: any mapping with .get(), e.g. Flask's request.headers;
    raw_body: the bytes exactly as received (request.get_data()).
    """
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp") or ""
    signatures = headers.get("webhook-signature")
    if not msg_id or not signatures or not (ts.isascii() and ts.isdigit()):
        return False
    if abs(time.time() - int(ts)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + raw_body, hashlib.sha256)
    expected = base64.b64encode(mac.digest())
    # Several space-separated "v1,<base64>" entries during a secret rotation.
    return any(
        hmac.compare_digest(entry[3:].encode(), expected)
        for entry in signatures.split(" ")
        if entry.startswith("v1,")
    )
# snippet:end


# Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
# in WEBHOOK_SECRET; exits 0 when the delivery verifies.
if __name__ == "__main__":
    import json
    import os
    import sys

    data = json.load(sys.stdin)
    body = base64.b64decode(data["body"])
    sys.exit(0 if verify_standard(os.environ["WEBHOOK_SECRET"], data["headers"], body) else 1)
