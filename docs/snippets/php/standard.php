<?php
// snippet:start
// verify_standard checks a Standard Webhooks delivery (outhook's default).
// $headers: lower-case names, e.g. array_change_key_case(getallheaders());
// $rawBody: file_get_contents('php://input'), never re-encoded JSON.
function verify_standard(string $secret, array $headers, string $rawBody, int $tolerance = 300): bool
{
    $id = $headers['webhook-id'] ?? '';
    $ts = $headers['webhook-timestamp'] ?? '';
    $signatures = $headers['webhook-signature'] ?? '';
    if ($id === '' || $signatures === '' || !ctype_digit($ts) || abs(time() - (int) $ts) > $tolerance) {
        return false;
    }
    $key = base64_decode(preg_replace('/^whsec_/', '', $secret));
    $expected = base64_encode(hash_hmac('sha256', "$id.$ts.$rawBody", $key, true));
    // Several space-separated "v1,<base64>" entries during a secret rotation.
    foreach (explode(' ', $signatures) as $entry) {
        if (str_starts_with($entry, 'v1,') && hash_equals($expected, substr($entry, 3))) {
            return true;
        }
    }
    return false;
}
// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET; exits 0 when the delivery verifies.
$in = json_decode(file_get_contents('php://stdin'), true);
exit(verify_standard(getenv('WEBHOOK_SECRET'), $in['headers'], base64_decode($in['body'])) ? 0 : 1);
