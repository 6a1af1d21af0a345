//! A judgement as the engine answers it: the verdict, each check's outcome, what the holder,
//! the issuer and the rules say, and why (the `check` module makes it).

use propusk_spec::{Body, Credential, CredentialId, CredentialType, KeyId, Timestamp};
use serde::Serialize;

use crate::bundle::TrustState;
use crate::person::Person;
use crate::reason::Reason;

/// The answer for one credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Valid,
    /// Genuine and valid, but the door's policy needs more of the same holder (an exemption
    /// without a test): not an admission.
    Incomplete,
    /// The verifier cannot tell (no or expired trust data, unknown key, an online-only link).
    Unknown,
    /// Nothing was read (no QR code in an image, a file that is not an image): not a verdict on
    /// anyone's credential, a notice to show the code again.
    Unread,
    /// A check failed.
    Invalid,
}

impl Verdict {
    /// The worst of some verdicts (invalid, then unread, then unknown, then incomplete, then
    /// valid), which
    /// decides a command's exit code; `None` for none at all.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
        verdicts.into_iter().max()
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Incomplete => "incomplete",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
            Verdict::Unread => "unread",
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Performed and passed.
    Ok,
    /// Performed and failed.
    Failed,
    /// Not performed (an earlier step failed or had nothing to check).
    #[default]
    Skipped,
}

/// Every check and its outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Checks {
    /// Text to claims.
    pub decode: CheckOutcome,
    /// The signature with a trusted key.
    pub signature: CheckOutcome,
    /// The key may sign this type at this issued-at, and was not retired or compromised then.
    pub key_usage: CheckOutcome,
    /// The credential's own expiry claim (and issued-at not in the future).
    pub expiry: CheckOutcome,
    /// Neither the credential nor its key is withdrawn.
    pub revocation: CheckOutcome,
    /// The rule set's verdict for its type.
    pub rules: CheckOutcome,
}

/// What is shown of the holder: enough to match an ID document, nothing more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HolderView {
    /// Initials as the identity document spells the name: `И. И. И.` for a domestic passport,
    /// `I. I. I.` (the Latin forms) otherwise.
    pub initials: String,
    /// Date of birth, as precise as issued.
    pub birth_date: String,
    /// The document number masked: `45** ***789`.
    pub document: String,
    /// The standardised name (ICAO 9303, as a passport's machine-readable zone has it:
    /// `SHCHUKINA<<IULIIA`) of an EU certificate, which carries no document number: what an
    /// officer compares with the passport. `None` for Propusk's own credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl HolderView {
    pub(crate) fn of(c: &Credential) -> Self {
        HolderView {
            initials: c.holder.initials.to_string(),
            birth_date: c.holder.birth_date.to_string(),
            document: c.holder.document.masked().to_owned(),
            name: None,
        }
    }
}

/// Who issued a credential, as its issuer's trust data names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuerView {
    /// The issuing authority's name.
    pub name: String,
    /// Its country (ISO 3166-1 alpha-2).
    pub country: String,
}

/// The full report on one credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, when the verdict is not `valid`.
    pub reason: Option<Reason>,
    /// A few words on the reason, in English.
    pub detail: Option<String>,
    /// The credential's type, when it decoded.
    pub credential_type: Option<CredentialType>,
    /// The credential's id, when it decoded.
    pub id: Option<CredentialId>,
    /// The signing key's id, when it decoded.
    pub key_id: Option<KeyId>,
    /// What is shown of the holder, only when the signature verified.
    pub holder: Option<HolderView>,
    /// The verified credential itself (kept for the caller; never shown).
    pub credential: Option<Credential>,
    /// Whom it names, once its signature verified (for the cross-check of credentials shown
    /// together; never shown).
    pub person: Option<Person>,
    /// Until when it is valid: the earlier of its expiry claim and the rule set's end.
    pub valid_until: Option<Timestamp>,
    /// What it certifies, in words for a person (product, dose, date, country...).
    pub summary: Option<String>,
    /// Who issued it, once its signature verified: the name and country its trust list gives
    /// the key.
    pub issuer: Option<IssuerView>,
    /// Every check.
    pub checks: Checks,
    /// How fresh the trust data was.
    pub trust_state: TrustState,
    /// When the verdict was decided by a version of the rules that is not the earliest (a rule
    /// change): the first local day of that version.
    pub rules_since: Option<propusk_spec::Date>,
    /// The door's policy that judged it, when there is one.
    pub policy: Option<String>,
    /// What the policy needs besides, of the same holder (an incomplete verdict).
    pub needs: Vec<CredentialType>,
    /// What it certifies, as the rules read it, once its signature verified (never shown).
    pub body: Option<Body>,
}

impl Report {
    /// A report with nothing checked yet: valid until a check says otherwise.
    pub fn blank(trust_state: TrustState) -> Self {
        Report {
            verdict: Verdict::Valid,
            reason: None,
            detail: None,
            credential_type: None,
            id: None,
            key_id: None,
            holder: None,
            credential: None,
            person: None,
            valid_until: None,
            summary: None,
            issuer: None,
            checks: Checks::default(),
            trust_state,
            rules_since: None,
            policy: None,
            needs: Vec::new(),
            body: None,
        }
    }

    /// The report for an input that never became credential text (an image with no readable
    /// code): invalid, decode failed, with the given reason.
    pub fn unreadable(reason: Reason, detail: impl Into<String>, trust_state: TrustState) -> Self {
        let mut report = Report::blank(trust_state);
        report.checks.decode = CheckOutcome::Failed;
        report.fail(Verdict::Unread, reason, detail)
    }

    /// Records a failed check: the first failure sets the verdict, reason and detail; later
    /// ones keep them.
    pub fn fail(mut self, verdict: Verdict, reason: Reason, detail: impl Into<String>) -> Self {
        if self.reason.is_none() {
            self.verdict = verdict;
            self.reason = Some(reason);
            self.detail = Some(detail.into());
        }
        self
    }
}
