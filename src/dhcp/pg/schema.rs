//! The lease database's schema and its versioned migrations, applied by
//! netboot itself at start in one transaction under an advisory lock (so two
//! servers starting together do not both migrate). The table
//! `netboot_schema_version` lists each version applied; a database whose
//! newest version is above [`KNOWN`] was migrated by a newer netboot and is
//! refused.

use deadpool_postgres::Client;

/// The migrations, version 1 first. Never edit one that has shipped: add
/// the next.
const MIGRATIONS: &[&str] = &[
    // 1: one row per address and pool (the key); one active lease per client
    // and pool, checked at commit, so a batch may move a client first and
    // release its old address after
    "CREATE TABLE netboot_leases (
        pool text NOT NULL,
        ip inet NOT NULL,
        mac text NOT NULL,
        expires bigint NOT NULL,
        state text NOT NULL CHECK (state IN ('offered', 'bound', 'released', 'declined')),
        hostname text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pool, ip),
        CONSTRAINT netboot_leases_one_active_per_client
            EXCLUDE USING btree (pool WITH =, mac WITH =) WHERE (state IN ('offered', 'bound'))
            DEFERRABLE INITIALLY DEFERRED
    );",
    // 2: which server wrote a row last, and in which transaction, so that
    // each server can follow the others' writes (`follow.rs`); one *bound*
    // lease per client and pool (servers on one segment may each offer the
    // client an address; only the ACK moves it)
    "ALTER TABLE netboot_leases
        ADD COLUMN server text NOT NULL DEFAULT '',
        ADD COLUMN txid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
        DROP CONSTRAINT netboot_leases_one_active_per_client,
        ADD CONSTRAINT netboot_leases_one_bound_per_client
            EXCLUDE USING btree (pool WITH =, mac WITH =) WHERE (state = 'bound')
            DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX netboot_leases_txid ON netboot_leases (txid);",
    // 3: a client's leases by pool and MAC, for the bound write that
    // releases the client's other leases (the constraint's index holds only
    // bound rows): without it every ACK scanned the whole table
    "CREATE INDEX netboot_leases_client ON netboot_leases (pool, mac);",
];

/// The newest schema version this netboot knows.
pub const KNOWN: i32 = MIGRATIONS.len() as i32;

/// Any number, the same in every netboot: the advisory lock of migrations.
const LOCK_KEY: i64 = 0x006e_6574_626f_6f74;

/// What [`migrate`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// At `version` now (`applied` migrations were run).
    Current { version: i32, applied: usize },
    /// The database is at `found`, above [`KNOWN`]: nothing was done.
    Newer { found: i32 },
}

/// Brings the schema up to [`KNOWN`] in one transaction.
pub async fn migrate(client: &mut Client) -> Result<Outcome, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS netboot_schema_version (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM netboot_schema_version",
            &[],
        )
        .await?;
    let found: i32 = row.get(0);
    if found > KNOWN {
        return Ok(Outcome::Newer { found });
    }
    let mut applied = 0;
    for (version, sql) in (1..).zip(MIGRATIONS).skip(found as usize) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO netboot_schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        applied += 1;
    }
    tx.commit().await?;
    Ok(Outcome::Current {
        version: KNOWN,
        applied,
    })
}
