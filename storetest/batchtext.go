package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// awkwardTexts are response bodies and errors a receiver may cause, which
// a Store must keep as they are: quotes, backslashes, braces and commas
// (the syntax of SQL array and row literals), the word NULL, an empty
// string, newlines, and text beyond ASCII.
var awkwardTexts = []string{
	`{"ok":true,"list":[1,2,{"a":"b\"c"}]}`,
	`back\slash \\ and "quote" and 'single'`,
	`NULL`,
	``,
	"line one\nline two\r\n\ttabbed, {braced}, (paren)",
	"ünïcödé ✓ 日本語 🙂",
}

// testBatchText: a batch of successes and failures with awkward response
// bodies and errors records them exactly, both while the endpoint's row
// needs no write (the fast way of a database Store) and when it does.
func testBatchText(t *testing.T, newStore newStoreFunc) {
	f := setup(t, newStore)
	bc := batcher(t, f)
	ep := f.createEndpoint()
	_, first := f.enqueue(base, ep)
	f.succeed(f.claimOne(at(time.Second), first[0].ID), at(time.Second)) // LastSuccessAt is fresh now
	for round, outcome := range []webhook.Outcome{webhook.OutcomeSuccess, webhook.OutcomeFail} {
		now := at(1500*time.Millisecond + time.Duration(round)*time.Second) // the successes within SuccessGranularity
		var ids []string
		for range awkwardTexts {
			_, ds := f.enqueue(now, ep)
			ids = append(ids, ds[0].ID)
		}
		cs := f.claimAll(now, ids)
		batch := make([]webhook.Completion, len(cs))
		for i, c := range cs {
			batch[i] = completion(c, outcome, now)
			batch[i].Attempt.ResponseBody = awkwardTexts[i]
			if outcome != webhook.OutcomeSuccess {
				batch[i].Attempt.Error = "HTTP 500: " + awkwardTexts[i]
			}
		}
		res, err := bc.CompleteBatch(f.ctx, batch)
		require.NoError(t, err)
		for i, r := range res {
			require.NoError(t, r.Err, "completion %d", i)
		}
		for i, id := range ids {
			as := f.attempts(id)
			require.Len(t, as, 1)
			assert.Equal(t, awkwardTexts[i], as[0].ResponseBody, "%v: response body %d", outcome, i)
			if outcome != webhook.OutcomeSuccess {
				assert.Equal(t, "HTTP 500: "+awkwardTexts[i], as[0].Error, "error %d", i)
				assert.True(t, strings.HasPrefix(f.getDelivery(id).LastError, "HTTP 500: "), "LastError %d", i)
			}
		}
	}
}
