# snippet:start
import hashlib
import hmac
import time


def verify_stripe_form(secret, header_value, raw_body, tolerance=300):
    """Check "t=<unix>,v1=<hex>[,v1=<hex>]" (outhook's StripeSigner; default
    header X-Webhook-Signature): HMAC-SHA256 of "<t>.<raw body>" keyed with
    the secret as written, t at most five minutes off."""
    if not header_value:
        return False
    pairs = [part.split("=", 1) for part in header_value.split(",") if "=" in part]
    t = next((v for k, v in pairs if k == "t"), "")
    if not (t.isascii() and t.isdigit()) or abs(time.time() - int(t)) > tolerance:
        return False
    mac = hmac.new(secret.encode(), t.encode() + b"." + raw_body, hashlib.sha256)
    expected = mac.hexdigest().encode()
    return any(hmac.compare_digest(v.encode(), expected) for k, v in pairs if k == "v1")
# usage: verify_stripe_form(secret, request.headers.get("X-Webhook-Signature"), request.get_data())
# snippet:end


# Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
# in WEBHOOK_SECRET, the header in WEBHOOK_HEADER; exits 0 when the
# delivery verifies.
if __name__ == "__main__":
    import base64
    import json
    import os
    import sys

    data = json.load(sys.stdin)
    body = base64.b64decode(data["body"])
    value = data["headers"].get(os.environ.get("WEBHOOK_HEADER", "x-webhook-signature"))
    sys.exit(0 if verify_stripe_form(os.environ["WEBHOOK_SECRET"], value, body) else 1)
