<?php
// snippet:start
// verify_hmac checks a hex HMAC-SHA256 of the raw body: header "Signature"
// (ProductLift), "X-Signature", or "X-Hub-Signature-256" with prefix
// "sha256=" (GitHub's form). The secret is used as written.
function verify_hmac(string $secret, string $headerValue, string $rawBody, string $prefix = ''): bool
{
    return hash_equals($prefix . hash_hmac('sha256', $rawBody, $secret), $headerValue);
}
// usage: verify_hmac($secret, $_SERVER['HTTP_X_SIGNATURE'] ?? '', file_get_contents('php://input'))
// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET, the header in WEBHOOK_HEADER and the prefix in
// WEBHOOK_PREFIX; exits 0 when the delivery verifies.
$in = json_decode(file_get_contents('php://stdin'), true);
$value = $in['headers'][getenv('WEBHOOK_HEADER') ?: 'x-signature'] ?? '';
exit(verify_hmac(getenv('WEBHOOK_SECRET'), $value, base64_decode($in['body']), getenv('WEBHOOK_PREFIX') ?: '') ? 0 : 1);
