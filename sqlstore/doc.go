// Package sqlstore is a durable webhook.Store in PostgreSQL or SQLite,
// through database/sql, so webhooks live in the application's own
// database. It imports no driver: open the *sql.DB with the driver the
// application already uses (pgx's stdlib, lib/pq, modernc.org/sqlite, ...).
//
//	db, _ := sql.Open("pgx", os.Getenv("DATABASE_URL"))
//	db.SetMaxIdleConns(20) // as many as SetMaxOpenConns: the default 2 reconnects all the time
//	store, err := sqlstore.Open(ctx, db, sqlstore.Postgres, nil)
//	d, err := webhook.NewDispatcher(store, nil)
//
// Besides webhook.Store it implements the optional abilities the
// Dispatcher looks for:
//
//   - webhook.TxEnqueuer: Dispatcher.PublishTx writes the event and its
//     deliveries inside the application's *sql.Tx (the transactional
//     outbox): invisible until commit, gone on rollback.
//   - webhook.InTxEnqueuer: the same for Dispatcher.PublishInTx, inside a
//     transaction of any driver given as a webhook.Tx (pgxtx.Wrap of a
//     pgx.Tx; webhook.WrapSQLTx for ent).
//   - webhook.ManyEnqueuer and webhook.InTxManyEnqueuer:
//     Dispatcher.PublishMany writes a batch in one transaction (the
//     Store's, or the application's): one INSERT per table on PostgreSQL
//     (the rows as one JSON parameter), multi-row INSERTs on SQLite.
//   - webhook.Notifier: Listen wakes the Dispatcher when deliveries were
//     committed elsewhere: PostgreSQL LISTEN/NOTIFY (given
//     Options.WaitForNotification, a one-line driver hook), a change counter
//     polled every 100 ms on SQLite.
//   - webhook.Maintainer: Maintain deletes what ended longer than
//     Options.Retention ago (30 days by default), in small batches.
//
// Several processes may share one PostgreSQL database: Claim takes due
// deliveries with FOR UPDATE SKIP LOCKED under a lease, and Complete
// records the attempt and updates the endpoint's counters in one
// transaction with the endpoint's row locked, so counts are exact and an
// endpoint is disabled once. The schema is embedded and versioned; Migrate
// applies it under a lock and is safe to run from every process. Secrets
// can be encrypted at rest with AES-256-GCM (Options.EncryptionKeys), with
// key rotation.
//
// docs/sqlstore.md in the repository covers the design, SQLite settings,
// pool sizing and the measurements.
package sqlstore
