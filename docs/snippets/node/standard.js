// snippet:start
const crypto = require("node:crypto");

// verifyStandard checks a Standard Webhooks delivery (outhook's default).
// headers: lower-case names (Node's req.headers); rawBody: the body bytes
// exactly as received (express.raw()), never re-serialized JSON.
function verifyStandard(secret, headers, rawBody, toleranceSeconds = 300) {
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !ts || !signatures || !/^\d+$/.test(ts)) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > toleranceSeconds) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = crypto.createHmac("sha256", key)
    .update(`${id}.${ts}.`).update(rawBody).digest();
  // Several space-separated "v1,<base64>" entries during a secret rotation.
  return signatures.split(" ").some((entry) => {
    const [version, sig] = entry.split(",");
    if (version !== "v1" || !sig) return false;
    const got = Buffer.from(sig, "base64");
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}
// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET; exits 0 when the delivery verifies.
if (require.main === module) {
  const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const body = Buffer.from(input.body, "base64");
  process.exit(verifyStandard(process.env.WEBHOOK_SECRET, input.headers, body) ? 0 : 1);
}
