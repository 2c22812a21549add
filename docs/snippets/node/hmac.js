// snippet:start
const crypto = require("node:crypto");

// verifyHMAC checks a hex HMAC-SHA256 of the raw body: header "Signature"
// (ProductLift), "X-Signature", or "X-Hub-Signature-256" with prefix
// "sha256=" (GitHub's form). The secret is used as written.
function verifyHMAC(secret, headerValue, rawBody, prefix = "") {
  if (!headerValue || !headerValue.startsWith(prefix)) return false;
  const expected = crypto.createHmac("sha256", secret).update(rawBody).digest();
  const got = Buffer.from(headerValue.slice(prefix.length), "hex");
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}
// usage: verifyHMAC(secret, req.headers["x-signature"], req.body)
// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET, the header in WEBHOOK_HEADER and the prefix in
// WEBHOOK_PREFIX; exits 0 when the delivery verifies.
if (require.main === module) {
  const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const body = Buffer.from(input.body, "base64");
  const value = input.headers[process.env.WEBHOOK_HEADER || "x-signature"];
  process.exit(verifyHMAC(process.env.WEBHOOK_SECRET, value, body, process.env.WEBHOOK_PREFIX || "") ? 0 : 1);
}
