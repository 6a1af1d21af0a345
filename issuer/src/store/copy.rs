//! `issuer migrate`: a whole SQLite issuer copied into a PostgreSQL database — settings, keys,
//! credentials, the audit log (its numbers kept), EU signers and keys, twins, publications and
//! their files — in one transaction, then every table read back from PostgreSQL and compared with
//! the SQLite original, row count and SHA-256 over every row in key order. A database that holds
//! an issuer already is refused.

use propusk_spec::Timestamp;
use std::path::Path;

use postgres::types::ToSql;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

use super::Store;
use super::postgres::{PgStore, connect};
use super::sqlite::STORE_FILE;
use crate::error::StoreError;

/// How a column is read and written.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// A 32-bit integer column (`config.id`).
    Int4,
    Int,
    Blob,
    Bool,
}

/// A table: its name, its columns with their kinds (nullable ones too), its order.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    order: &'static str,
}

use Kind::{Blob, Bool, Int, Int4, Text};

/// Every table, parents before children.
const TABLES: &[Table] = &[
    Table {
        name: "config",
        columns: &[
            ("id", Int4),
            ("name", Text),
            ("country", Text),
            ("url", Text),
            ("time_zone", Text),
            ("salt", Blob),
            ("created_at", Int),
            ("name_latin", Text),
        ],
        order: "id",
    },
    Table {
        name: "keys",
        columns: &[
            ("key_id", Text),
            ("role", Text),
            ("public_key", Blob),
            ("sealed", Blob),
            ("status", Text),
            ("since", Int),
            ("not_before", Int),
            ("not_after", Int),
            ("created_at", Int),
        ],
        order: "key_id",
    },
    Table {
        name: "credentials",
        columns: &[
            ("id", Text),
            ("record_id", Text),
            ("type", Text),
            ("key_id", Text),
            ("issued_at", Int),
            ("expires_at", Int),
            ("status", Text),
            ("revoked_at", Int),
            ("text", Text),
            ("proof", Blob),
            ("holder", Blob),
        ],
        order: "id",
    },
    Table {
        name: "audit",
        columns: &[("seq", Int), ("at", Int), ("op", Text), ("detail", Text)],
        order: "seq",
    },
    Table {
        name: "eu_signers",
        columns: &[
            ("key_id", Text),
            ("der", Blob),
            ("country", Text),
            ("added_at", Int),
        ],
        order: "key_id",
    },
    Table {
        name: "eu_data",
        columns: &[
            ("kind", Text),
            ("name", Text),
            ("body", Blob),
            ("added_at", Int),
        ],
        order: "kind, name",
    },
    Table {
        name: "publications",
        columns: &[("sequence", Int), ("issued_at", Int), ("content", Blob)],
        order: "sequence",
    },
    Table {
        name: "publication_files",
        columns: &[("sequence", Int), ("name", Text), ("bytes", Blob)],
        order: "sequence, name",
    },
    Table {
        name: "eu_keys",
        columns: &[
            ("key_id", Text),
            ("role", Text),
            ("certificate", Blob),
            ("sealed", Blob),
            ("active", Bool),
            ("not_before", Int),
            ("not_after", Int),
            ("created_at", Int),
        ],
        order: "created_at, key_id",
    },
    Table {
        name: "eu_twins",
        columns: &[
            ("credential_id", Text),
            ("uci", Text),
            ("key_id", Text),
            ("signature", Blob),
            ("text", Text),
        ],
        order: "credential_id",
    },
    Table {
        name: "rule_versions",
        columns: &[
            ("version", Int4),
            ("effective_from", Text),
            ("rules", Text),
            ("created_at", Int),
        ],
        order: "version",
    },
    Table {
        name: "proofs",
        columns: &[("kind", Text), ("row_key", Text), ("proof", Blob)],
        order: "kind, row_key",
    },
];

/// One cell, as both databases give it.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Text(String),
    Int4(i32),
    Int(i64),
    Blob(Vec<u8>),
    Bool(bool),
}

impl Cell {
    fn digest_into(&self, hash: &mut Sha256) {
        let (tag, bytes): (u8, Vec<u8>) = match self {
            Cell::Null => (0, Vec::new()),
            Cell::Text(s) => (1, s.as_bytes().to_vec()),
            Cell::Int(i) => (2, i.to_be_bytes().to_vec()),
            Cell::Int4(i) => (2, i64::from(*i).to_be_bytes().to_vec()),
            Cell::Blob(b) => (3, b.clone()),
            Cell::Bool(b) => (4, vec![u8::from(*b)]),
        };
        hash.update([tag]);
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    }

    /// The value to write into a column of `kind` (a NULL typed as the column).
    fn to_sql(&self, kind: Kind) -> Box<dyn ToSql + Sync> {
        match self {
            Cell::Null => match kind {
                Kind::Text => Box::new(Option::<String>::None),
                Kind::Int4 => Box::new(Option::<i32>::None),
                Kind::Int => Box::new(Option::<i64>::None),
                Kind::Blob => Box::new(Option::<Vec<u8>>::None),
                Kind::Bool => Box::new(Option::<bool>::None),
            },
            Cell::Text(s) => Box::new(s.clone()),
            Cell::Int(i) => Box::new(*i),
            Cell::Int4(i) => Box::new(*i),
            Cell::Blob(b) => Box::new(b.clone()),
            Cell::Bool(b) => Box::new(*b),
        }
    }
}

/// What a migration copied: per table, the rows and their digest (equal on both sides).
#[derive(Debug, Clone)]
pub struct Copied {
    /// Table, rows, SHA-256 of the rows (hex).
    pub tables: Vec<(&'static str, u64, String)>,
    /// The database copied into, without its password: the issuer's store from now on.
    pub target: String,
}

fn sqlite_cell(value: ValueRef<'_>, kind: Kind) -> Result<Cell, StoreError> {
    Ok(match (value, kind) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(i), Kind::Bool) => Cell::Bool(i != 0),
        (ValueRef::Integer(i), Kind::Int) => Cell::Int(i),
        (ValueRef::Integer(i), Kind::Int4) => Cell::Int4(
            i32::try_from(i).map_err(|_| StoreError::Corrupt("an integer out of range"))?,
        ),
        (ValueRef::Text(t), Kind::Text) if t.contains(&0) => {
            return Err(StoreError::Corrupt(
                "a text with a NUL character, which PostgreSQL cannot hold (a record id from \
                 before record ids were checked): correct it in the SQLite store first",
            ));
        }
        (ValueRef::Text(t), Kind::Text) => Cell::Text(
            String::from_utf8(t.to_vec()).map_err(|_| StoreError::Corrupt("text not UTF-8"))?,
        ),
        (ValueRef::Blob(b), Kind::Blob) => Cell::Blob(b.to_vec()),
        _ => return Err(StoreError::Corrupt("a cell of the wrong type")),
    })
}

fn pg_cell(row: &postgres::Row, i: usize, kind: Kind) -> Result<Cell, StoreError> {
    let cell = match kind {
        Kind::Text => row.try_get::<_, Option<String>>(i)?.map(Cell::Text),
        Kind::Int => row.try_get::<_, Option<i64>>(i)?.map(Cell::Int),
        Kind::Int4 => row.try_get::<_, Option<i32>>(i)?.map(Cell::Int4),
        Kind::Blob => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Blob),
        Kind::Bool => row.try_get::<_, Option<bool>>(i)?.map(Cell::Bool),
    };
    Ok(cell.unwrap_or(Cell::Null))
}

/// Copies the SQLite issuer in `dir` into the PostgreSQL database at `url`, checks the copy, and
/// marks the SQLite store as moved there (at `at`): every later command on it refuses.
pub fn sqlite_to_postgres(dir: &Path, url: &str, at: Timestamp) -> Result<Copied, StoreError> {
    let path = dir.join(STORE_FILE);
    if !path.exists() {
        return Err(StoreError::Corrupt(
            "no SQLite issuer store in the directory",
        ));
    }
    let source =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // A store moved once is not copied again: its copy is the issuer's store now.
    if let Some(to) = super::sqlite::moved::moved_to(&source)? {
        return Err(StoreError::Moved(to));
    }
    // Brings the schema up; an issuer already there is refused before anything is written.
    if PgStore::connect(url)?.settings()?.is_some() {
        return Err(StoreError::TargetHoldsIssuer);
    }
    let mut target = connect(url)?;
    let mut tx = target.transaction()?;
    let mut digests = Vec::new();
    for table in TABLES {
        let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
        let list = columns.join(", ");
        let params: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let insert = tx.prepare(&format!(
            "INSERT INTO {} ({list}) VALUES ({})",
            table.name,
            params.join(", ")
        ))?;
        let mut stmt = source.prepare(&format!(
            "SELECT {list} FROM {} ORDER BY {}",
            table.name, table.order
        ))?;
        let mut rows = stmt.query([])?;
        let mut hash = Sha256::new();
        let mut count = 0u64;
        while let Some(row) = rows.next()? {
            let cells = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| sqlite_cell(row.get_ref(i)?, *kind))
                .collect::<Result<Vec<Cell>, StoreError>>()?;
            cells.iter().for_each(|c| c.digest_into(&mut hash));
            let values: Vec<Box<dyn ToSql + Sync>> = cells
                .iter()
                .zip(table.columns)
                .map(|(cell, (_, kind))| cell.to_sql(*kind))
                .collect();
            let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
            tx.execute(&insert, &refs)?;
            count += 1;
        }
        digests.push((table, count, hex(&hash.finalize())));
    }
    // The audit log keeps its numbers; the next entry follows the last one copied.
    tx.execute(
        "SELECT setval(pg_get_serial_sequence('audit', 'seq'),
                       coalesce((SELECT max(seq) FROM audit), 0) + 1, false)",
        &[],
    )?;
    // Read back inside the transaction: what would be committed is what was read.
    let mut copied = Vec::new();
    for (table, count, digest) in digests {
        let list = table
            .columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ");
        let rows = tx.query(
            &format!("SELECT {list} FROM {} ORDER BY {}", table.name, table.order),
            &[],
        )?;
        let mut hash = Sha256::new();
        for row in &rows {
            for (i, (_, kind)) in table.columns.iter().enumerate() {
                pg_cell(row, i, *kind)?.digest_into(&mut hash);
            }
        }
        let back = hex(&hash.finalize());
        if rows.len() as u64 != count || back != digest {
            return Err(StoreError::CopyMismatch(table.name));
        }
        copied.push((table.name, count, digest));
    }
    tx.commit()?;
    // From now on the SQLite file refuses every command: one registry, not two.
    let target = super::postgres::moved::label(url);
    super::sqlite::moved::mark_moved(dir, &target, at)?;
    Ok(Copied {
        tables: copied,
        target,
    })
}

fn hex(bytes: &[u8]) -> String {
    propusk_spec::hex::encode(bytes)
}
