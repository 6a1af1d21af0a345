-- The issuer's SQLite schema (applied on every open; every statement is idempotent).
CREATE TABLE IF NOT EXISTS config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    url TEXT,
    time_zone TEXT NOT NULL,
    salt BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    name_latin TEXT
);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('root', 'signing')),
    public_key BLOB NOT NULL,
    sealed BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('next', 'active', 'retired', 'compromised')),
    since INTEGER,
    not_before INTEGER NOT NULL,
    not_after INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    record_id TEXT UNIQUE,
    type TEXT NOT NULL,
    key_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'revoked')),
    revoked_at INTEGER,
    text TEXT NOT NULL,
    proof BLOB,
    holder BLOB,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    op TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS eu_signers (
    key_id TEXT PRIMARY KEY,
    der BLOB NOT NULL,
    country TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
-- EU trust data the operator imported (value sets, business rules, revocation batches, the
-- trust list's anchor), published with the bundle.
CREATE TABLE IF NOT EXISTS eu_data (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body BLOB NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS publications (
    sequence INTEGER PRIMARY KEY,
    issued_at INTEGER NOT NULL,
    content BLOB NOT NULL
);
-- The signed files of the newest publications, so that every server of this issuer serves the
-- current one, whoever made it.
CREATE TABLE IF NOT EXISTS publication_files (
    sequence INTEGER NOT NULL REFERENCES publications (sequence),
    name TEXT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (sequence, name)
);
-- The issuer's own EU DCC keys: the country signing CA and its document signers.
CREATE TABLE IF NOT EXISTS eu_keys (
    key_id TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('csca', 'dsc')),
    certificate BLOB NOT NULL,
    sealed BLOB NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
-- The EU DCC twin of a credential: revoking the credential revokes it.
CREATE TABLE IF NOT EXISTS eu_twins (
    credential_id TEXT PRIMARY KEY REFERENCES credentials (id),
    uci TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL REFERENCES eu_keys (key_id),
    signature BLOB NOT NULL,
    text TEXT NOT NULL
);
-- The proofs that rows a publication vouches for (settings, keys, EU signers, revocations) were
-- written by someone holding the passphrase: an HMAC under a key derived from it (proof.rs).
CREATE TABLE IF NOT EXISTS proofs (
    kind TEXT NOT NULL,
    row_key TEXT NOT NULL,
    proof BLOB NOT NULL,
    PRIMARY KEY (kind, row_key)
);
-- The versions of the rules the operator set (`issuer rules set`), each in force, whole, from
-- its first local day.
CREATE TABLE IF NOT EXISTS rule_versions (
    version INTEGER PRIMARY KEY,
    effective_from TEXT NOT NULL,
    rules TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
