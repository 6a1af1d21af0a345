//! Rows that move: credentials replaced by new ones (a correction, or signed again after a
//! compromise); and a database named for an operator (the store `migrate` moved to).

use super::conn::Conn;
use propusk_spec::{CredentialId, Timestamp};

use super::rows;
use crate::error::StoreError;
use crate::records::CredentialStatus;
use crate::store::{CredentialRecord, Reissuable};

/// A database URL as an operator may read it: user, hosts, ports and database, never the
/// password.
pub(crate) fn label(url: &str) -> String {
    let Ok(config) = url.parse::<postgres::Config>() else {
        return "postgres://…".to_owned();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{name}:{port}"),
                None => name,
            }
        })
        .collect();
    format!(
        "postgres://{}{}/{}",
        config
            .get_user()
            .map(|u| format!("{u}@"))
            .unwrap_or_default(),
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

/// The next credentials to sign again (see [`Reissuable`]), in id order.
pub(super) fn to_reissue(
    db: &mut Conn,
    which: &Reissuable,
) -> Result<Vec<CredentialRecord>, StoreError> {
    db.query(
        concat!(
            "SELECT ",
            rows::credential_columns!(),
            " FROM credentials WHERE status = 'issued' AND expires_at > $1
               AND key_id <> $2 AND ($3::text IS NULL OR key_id = $3) AND id > $4
             ORDER BY id LIMIT $5"
        ),
        &[
            &which.now.unix(),
            &which.not_key.to_string(),
            &which.key.as_ref().map(ToString::to_string),
            &which
                .after
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            &i64::try_from(which.limit).unwrap_or(i64::MAX),
        ],
    )?
    .iter()
    .map(rows::credential_record)
    .collect()
}

/// Revokes a credential (kept revoked from before, if it was) and frees its record id.
pub(super) fn supersede(
    db: &mut Conn,
    id: &CredentialId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = db.execute(
        "UPDATE credentials SET record_id = NULL, status = $3,
             revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
        &[
            &id.to_string(),
            &at.unix(),
            &CredentialStatus::Revoked { at }.as_str(),
        ],
    )?;
    Ok(changed == 1)
}
