//! What the issuer keeps and answers, as typed values: keys with their role and status, the
//! credentials issued with both link forms, the audit log, the rows publications vouch for.
//! The layers below the issuer (the store, the errors) and above it share these.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use propusk_spec::{CredentialId, CredentialType, KeyId, LinkError, Timestamp};
use propusk_trust_list::KeyStatus;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// What a key signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// Signs trust bundles only; verifiers pin it.
    Root,
    /// Signs credentials.
    Signing,
}

impl KeyRole {
    /// `root` or `signing`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Root => "root",
            KeyRole::Signing => "signing",
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyRole {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "root" => Ok(KeyRole::Root),
            "signing" => Ok(KeyRole::Signing),
            _ => Err(()),
        }
    }
}

/// A key as `key list` shows it (never its secret half).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id, as `verify` reports it.
    pub key_id: KeyId,
    /// What it signs.
    pub role: KeyRole,
    /// The public key.
    pub public_key: VerifyingKey,
    /// Next, active, retired since T, or compromised since T.
    pub status: KeyStatus,
    /// Start of the key's window.
    pub not_before: Timestamp,
    /// End of the key's window; `None` for a key with no end (the root key).
    pub not_after: Option<Timestamp>,
    /// Whether its secret half is kept in a hardware security module (else sealed in the
    /// store).
    pub in_token: bool,
}

impl KeyInfo {
    /// Since when a retired or compromised key is so.
    pub fn since(&self) -> Option<Timestamp> {
        self.status.since().and_then(Timestamp::from_unix)
    }
}

/// `key list --json`: `key_id`, `role`, `public_key` (base64url), `status`, `since`,
/// `not_before`, `not_after` (`null` when the key has no end), `kept` (`sealed` or `token`).
impl Serialize for KeyInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("KeyInfo", 8)?;
        o.serialize_field("key_id", &self.key_id)?;
        o.serialize_field("role", self.role.as_str())?;
        o.serialize_field(
            "public_key",
            &URL_SAFE_NO_PAD.encode(self.public_key.as_bytes()),
        )?;
        o.serialize_field("status", self.status.as_str())?;
        o.serialize_field("since", &self.since())?;
        o.serialize_field("not_before", &self.not_before)?;
        o.serialize_field("not_after", &self.not_after)?;
        o.serialize_field("kept", if self.in_token { "token" } else { "sealed" })?;
        o.end()
    }
}

/// Where a credential stands at its issuer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialStatus {
    /// Issued and not withdrawn.
    Issued,
    /// Revoked at this time: it enters the revocation set at the next publication.
    Revoked {
        /// When.
        at: Timestamp,
    },
}

impl CredentialStatus {
    /// When a revoked credential was revoked.
    pub fn since(self) -> Option<Timestamp> {
        match self {
            CredentialStatus::Issued => None,
            CredentialStatus::Revoked { at } => Some(at),
        }
    }

    /// The status from its name and, for `revoked`, its time: the inverse of
    /// [`CredentialStatus::as_str`] and [`CredentialStatus::since`].
    pub fn from_parts(name: &str, at: Option<Timestamp>) -> Option<Self> {
        match (name, at) {
            ("issued", None) => Some(CredentialStatus::Issued),
            ("revoked", Some(at)) => Some(CredentialStatus::Revoked { at }),
            _ => None,
        }
    }

    /// `issued` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Issued => "issued",
            CredentialStatus::Revoked { .. } => "revoked",
        }
    }
}

impl Serialize for CredentialStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Both link forms of a credential, built in one place from the issuer's portal URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// `{base}/c/{ID}`: the portal looks the id up.
    pub short: String,
    /// The short link with the signed credential in its fragment, verifiable offline.
    pub offline: String,
}

impl Links {
    /// The links of credential `id` (text `text`) under the portal `base`.
    pub fn new(base: &str, id: &CredentialId, text: &str) -> Result<Self, LinkError> {
        Ok(Links {
            short: propusk_spec::short_link(base, id)?,
            offline: propusk_spec::offline_link(base, id, text)?,
        })
    }
}

/// A credential issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// Its id.
    pub id: CredentialId,
    /// The credential text (the QR payload).
    pub credential: String,
    /// Its links, when the issuer has a portal URL.
    pub links: Option<Links>,
    /// The registry record id, if any.
    pub record_id: Option<String>,
    /// Its type.
    pub credential_type: CredentialType,
    /// The key that signed it.
    pub key_id: KeyId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires (the rule set's end).
    pub expires_at: Timestamp,
    /// Issued or revoked.
    pub status: CredentialStatus,
    /// The credential of the same record that this one replaced (a corrected record, or one
    /// signed again after its key was compromised), revoked in the same transaction.
    pub replaces: Option<CredentialId>,
    /// The holder's full record the issuer keeps beside the credential (every name, the whole
    /// document number), for the holder's own paper copy and to sign it again; never in the
    /// credential, never in a public answer. `None` for rows from before the door form.
    pub holder: Option<propusk_spec::Holder>,
}

/// `issuer record` and the API: the credential's facts without its text or the holder: `id`,
/// `link` (the short one), `record_id`, `type`, `key_id`, `issued_at`, `expires_at`, `status`.
impl Serialize for Issued {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("Issued", 9)?;
        o.serialize_field("id", &self.id)?;
        o.serialize_field("link", &self.links.as_ref().map(|l| &l.short))?;
        o.serialize_field("record_id", &self.record_id)?;
        o.serialize_field("type", &self.credential_type)?;
        o.serialize_field("key_id", &self.key_id)?;
        o.serialize_field("issued_at", &self.issued_at)?;
        o.serialize_field("expires_at", &self.expires_at)?;
        o.serialize_field("status", &self.status)?;
        match &self.replaces {
            Some(old) => o.serialize_field("replaces", old)?,
            None => o.skip_field("replaces")?,
        }
        o.end()
    }
}

/// An operation in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditOp {
    /// The issuer was created.
    Init,
    /// A key was created.
    KeyCreate,
    /// An announced key became active.
    KeyActivate,
    /// A key was retired.
    KeyRetire,
    /// A key was marked compromised.
    KeyCompromise,
    /// A credential was revoked.
    Revoke,
    /// Trust data was published.
    Publish,
    /// EU signer certificates were imported.
    EuImport,
    /// The settings (name, portal URL, time zone) were changed.
    Config,
    /// An EU DCC key (country signing CA, document signer) was made.
    EuKey,
    /// The operator vouched for rows without a proof (a store from before proofs existed).
    Vouch,
    /// An EU signer certificate was withdrawn (published no more).
    EuWithdraw,
    /// A version of the rules was set.
    Rules,
    /// A record's credential was revoked and replaced by a new one (corrected, or signed again).
    Reissue,
}

impl AuditOp {
    /// Every operation.
    pub const ALL: [AuditOp; 14] = [
        AuditOp::Init,
        AuditOp::KeyCreate,
        AuditOp::KeyActivate,
        AuditOp::KeyRetire,
        AuditOp::KeyCompromise,
        AuditOp::Revoke,
        AuditOp::Publish,
        AuditOp::EuImport,
        AuditOp::Config,
        AuditOp::EuKey,
        AuditOp::Vouch,
        AuditOp::EuWithdraw,
        AuditOp::Rules,
        AuditOp::Reissue,
    ];

    /// The name kept in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOp::Init => "init",
            AuditOp::KeyCreate => "key-create",
            AuditOp::KeyActivate => "key-activate",
            AuditOp::KeyRetire => "key-retired",
            AuditOp::KeyCompromise => "key-compromised",
            AuditOp::Revoke => "revoke",
            AuditOp::Publish => "publish",
            AuditOp::EuImport => "eu-import",
            AuditOp::Config => "config",
            AuditOp::EuKey => "eu-key",
            AuditOp::Vouch => "vouch",
            AuditOp::EuWithdraw => "eu-withdraw",
            AuditOp::Rules => "rules",
            AuditOp::Reissue => "reissue",
        }
    }
}

impl FromStr for AuditOp {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        AuditOp::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or(())
    }
}

impl Serialize for AuditOp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One entry of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its place in the log, from 1.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// What.
    pub op: AuditOp,
    /// On what, in words (ids, never personal data).
    pub detail: String,
}

/// What `publish` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The new sequence.
    pub sequence: u64,
    /// The full bundle's path.
    pub bundle: std::path::PathBuf,
    /// Deltas written (from these sequences).
    pub deltas_from: Vec<u64>,
    /// Credentials in the revocation set.
    pub revoked: u64,
}

/// A row that publications vouch for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Row {
    /// The issuer's settings (one row).
    Settings,
    /// A key (root or signing), by its id.
    Key(KeyId),
    /// An EU signer certificate published with the bundle, by its EU key id (hex).
    EuSigner(String),
    /// A credential's revocation.
    Revocation(CredentialId),
    /// A publication's content as recorded (what the next one is checked against).
    Publication(u64),
    /// A version of the rules the operator set.
    Rules(u32),
    /// An issued credential (its proof is kept in its own row: the portal reads both at once).
    Credential(CredentialId),
    /// EU trust data the operator imported, by its kind and name.
    EuData(EuDataKind, String),
}

/// A kind of EU trust data the operator imports, to publish with the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EuDataKind {
    /// An EU value set (its JSON), by its id.
    ValueSet,
    /// A country's EU business rules (a JSON array), by the country.
    Rules,
    /// The EU revocation batches (a JSON array), by the signer's key id and hash type.
    Revocations,
    /// The certificate (DER) that EU trust lists are verified against.
    Anchor,
}

impl EuDataKind {
    /// Every kind.
    pub(crate) const ALL: [EuDataKind; 4] = [
        EuDataKind::ValueSet,
        EuDataKind::Rules,
        EuDataKind::Revocations,
        EuDataKind::Anchor,
    ];

    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            EuDataKind::ValueSet => "valueset",
            EuDataKind::Rules => "rules",
            EuDataKind::Revocations => "revocations",
            EuDataKind::Anchor => "anchor",
        }
    }

    /// The kind its proofs are kept under (`eu_data:` and its name).
    pub(crate) fn proof_kind(self) -> &'static str {
        match self {
            EuDataKind::ValueSet => "eu_data:valueset",
            EuDataKind::Rules => "eu_data:rules",
            EuDataKind::Revocations => "eu_data:revocations",
            EuDataKind::Anchor => "eu_data:anchor",
        }
    }
}

impl Row {
    pub(crate) const SETTINGS: &'static str = "settings";
    pub(crate) const KEY: &'static str = "key";
    /// The kind of row an EU signer's proof is kept under.
    pub(crate) const EU_SIGNER: &'static str = "eu_signer";
    /// The kind of row a revocation's proof is kept under.
    pub(crate) const REVOCATION: &'static str = "revocation";
    pub(crate) const PUBLICATION: &'static str = "publication";
    pub(crate) const RULES: &'static str = "rules";
    pub(crate) const CREDENTIAL: &'static str = "credential";
    /// The prefix of the kinds EU trust data's proofs are kept under.
    pub(crate) const EU_DATA: &'static str = "eu_data";

    /// The kind of row, as the `proofs` table keeps it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Row::Settings => Self::SETTINGS,
            Row::Key(_) => Self::KEY,
            Row::EuSigner(_) => Self::EU_SIGNER,
            Row::Revocation(_) => Self::REVOCATION,
            Row::Publication(_) => Self::PUBLICATION,
            Row::Rules(_) => Self::RULES,
            Row::Credential(_) => Self::CREDENTIAL,
            Row::EuData(kind, _) => kind.proof_kind(),
        }
    }

    /// Which row of its kind.
    pub(crate) fn key(&self) -> String {
        match self {
            Row::Settings => "1".to_owned(),
            Row::Key(kid) => kid.to_string(),
            Row::EuSigner(kid) => kid.clone(),
            Row::Revocation(id) => id.to_string(),
            Row::Publication(sequence) => sequence.to_string(),
            Row::Rules(version) => version.to_string(),
            Row::Credential(id) => id.to_string(),
            Row::EuData(_, name) => name.clone(),
        }
    }

    /// The row in words, for an operator.
    pub(crate) fn describe(&self) -> String {
        match self {
            Row::Settings => "the issuer's settings (name, country, time zone)".to_owned(),
            Row::Key(kid) => format!("key {kid}"),
            Row::EuSigner(kid) => format!("EU signer {kid}"),
            Row::Revocation(id) => format!("the revocation of credential {id}"),
            Row::Publication(sequence) => format!("the record of publication {sequence}"),
            Row::Rules(version) => format!("version {version} of the rules"),
            Row::Credential(id) => format!("credential {id}"),
            Row::EuData(kind, name) => format!("imported EU {} {name}", kind.as_str()),
        }
    }
}

/// From when revoked credentials are published at `now`: whole partitions, so a credential that
/// expired earlier this month stays in this month's partition until the month is over, as the
/// last publication had it.
pub(crate) fn published_from(now: Timestamp) -> Timestamp {
    now.date()
        .and_then(|d| propusk_spec::Date::new(d.year(), d.month(), 1))
        .map_or(now, |d| d.start())
}
