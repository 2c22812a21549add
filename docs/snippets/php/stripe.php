<?php
// snippet:start
// verify_stripe_form checks "t=<unix>,v1=<hex>[,v1=<hex>]" (outhook's
// StripeSigner; default header X-Webhook-Signature): HMAC-SHA256 of
// "<t>.<raw body>" keyed with the secret as written, t at most five
// minutes off.
function verify_stripe_form(string $secret, string $headerValue, string $rawBody, int $tolerance = 300): bool
{
    $t = '';
    $v1 = [];
    foreach (explode(',', $headerValue) as $part) {
        [$k, $v] = array_pad(explode('=', $part, 2), 2, '');
        if ($k === 't') {
            $t = $v;
        } elseif ($k === 'v1') {
            $v1[] = $v;
        }
    }
    if (!ctype_digit($t) || abs(time() - (int) $t) > $tolerance) {
        return false;
    }
    $expected = hash_hmac('sha256', "$t.$rawBody", $secret);
    foreach ($v1 as $sig) {
        if (hash_equals($expected, $sig)) {
            return true;
        }
    }
    return false;
}
// usage: verify_stripe_form($secret, $_SERVER['HTTP_X_WEBHOOK_SIGNATURE'] ?? '', file_get_contents('php://input'))
// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET, the header in WEBHOOK_HEADER; exits 0 when the
// delivery verifies.
$in = json_decode(file_get_contents('php://stdin'), true);
$value = $in['headers'][getenv('WEBHOOK_HEADER') ?: 'x-webhook-signature'] ?? '';
exit(verify_stripe_form(getenv('WEBHOOK_SECRET'), $value, base64_decode($in['body'])) ? 0 : 1);
