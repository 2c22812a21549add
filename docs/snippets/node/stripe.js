// snippet:start
const crypto = require("node:crypto");

// verifyStripeForm checks "t=<unix>,v1=<hex>[,v1=<hex>]" (outhook's
// StripeSigner; default header X-Webhook-Signature): an HMAC-SHA256 of
// "<t>.<raw body>" keyed with the secret as written, t at most five
// minutes off.
function verifyStripeForm(secret, headerValue, rawBody, toleranceSeconds = 300) {
  if (!headerValue) return false;
  let t = null;
  const v1 = [];
  for (const part of headerValue.split(",")) {
    const i = part.indexOf("=");
    const [k, v] = [part.slice(0, i), part.slice(i + 1)];
    if (k === "t") t = v;
    else if (k === "v1") v1.push(v);
  }
  if (!t || !/^\d+$/.test(t)) return false;
  if (Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) return false;
  const expected = crypto.createHmac("sha256", secret)
    .update(`${t}.`).update(rawBody).digest();
  return v1.some((hex) => {
    const got = Buffer.from(hex, "hex");
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}
// usage: verifyStripeForm(secret, req.headers["x-webhook-signature"], req.body)
// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET, the header in WEBHOOK_HEADER; exits 0 when the
// delivery verifies.
if (require.main === module) {
  const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const body = Buffer.from(input.body, "base64");
  const value = input.headers[process.env.WEBHOOK_HEADER || "x-webhook-signature"];
  process.exit(verifyStripeForm(process.env.WEBHOOK_SECRET, value, body) ? 0 : 1);
}
