//! The issuer's PostgreSQL schema as numbered migrations, applied on every open in order, each
//! once (recorded in `propusk_migrations`), under an advisory lock so that several servers
//! starting at once migrate once.

use postgres::Client;

use crate::error::StoreError;

/// The lock every migrating process takes (a constant of this program: "propusk1").
const MIGRATION_LOCK: i64 = 0x7072_6f70_7573_6b31;

/// The migrations, in order. A released migration never changes; a change is a new one.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "
CREATE TABLE config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    url TEXT,
    time_zone TEXT NOT NULL,
    salt BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE keys (
    key_id TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('root', 'signing')),
    public_key BYTEA NOT NULL,
    sealed BYTEA NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('next', 'active', 'retired', 'compromised')),
    since BIGINT,
    not_before BIGINT NOT NULL,
    not_after BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    record_id TEXT UNIQUE,
    type TEXT NOT NULL,
    key_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'revoked')),
    revoked_at BIGINT,
    text TEXT NOT NULL,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX credentials_revoked ON credentials (expires_at)
    WHERE status <> 'issued' OR revoked_at IS NOT NULL;
CREATE TABLE audit (
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    op TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE FUNCTION propusk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION propusk_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION propusk_audit_append_only();
CREATE TABLE eu_signers (
    key_id TEXT PRIMARY KEY,
    der BYTEA NOT NULL,
    country TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE TABLE publications (
    sequence BIGINT PRIMARY KEY,
    issued_at BIGINT NOT NULL,
    content BYTEA NOT NULL
);
CREATE TABLE publication_files (
    sequence BIGINT NOT NULL REFERENCES publications (sequence),
    name TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (sequence, name)
);
CREATE TABLE eu_keys (
    key_id TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('csca', 'dsc')),
    certificate BYTEA NOT NULL,
    sealed BYTEA NOT NULL,
    active BOOLEAN NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    seq BIGSERIAL
);
CREATE TABLE eu_twins (
    credential_id TEXT PRIMARY KEY REFERENCES credentials (id),
    uci TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL REFERENCES eu_keys (key_id),
    signature BYTEA NOT NULL,
    text TEXT NOT NULL
);
",
    ),
    (
        2,
        "
CREATE TABLE proofs (
    kind TEXT NOT NULL,
    row_key TEXT NOT NULL,
    proof BYTEA NOT NULL,
    PRIMARY KEY (kind, row_key)
);
",
    ),
    (
        3,
        "
CREATE TABLE rule_versions (
    version INTEGER PRIMARY KEY,
    effective_from TEXT NOT NULL,
    rules TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
",
    ),
    // The issuer's proof of each credential it stored, read with the row by the portal.
    (4, "ALTER TABLE credentials ADD COLUMN proof BYTEA;"),
    // The authority's Latin name, for the EU twin.
    (5, "ALTER TABLE config ADD COLUMN name_latin TEXT;"),
    // EU trust data the operator imported, published with the bundle.
    (
        6,
        "
CREATE TABLE eu_data (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body BYTEA NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (kind, name)
);
",
    ),
    // The holder's full record beside each credential, which carries only the door form.
    (7, "ALTER TABLE credentials ADD COLUMN holder BYTEA;"),
];

/// Brings the database's schema up to date: every migration not yet applied, with its record,
/// in one transaction (all of them or none).
pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS propusk_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM propusk_migrations", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO propusk_migrations (version) VALUES ($1)",
            &[version],
        )?;
    }
    if let Some(newer) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|(m, _)| m == *v))
    {
        return Err(StoreError::Schema(format!(
            "the database has migration {newer}, which this program does not know: upgrade it"
        )));
    }
    tx.commit()?;
    Ok(())
}
