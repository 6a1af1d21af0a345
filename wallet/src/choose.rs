//! Which credential a person means: the best to show now (for one person of a family, too),
//! a number from `list`, an id or its beginning.

#[cfg(feature = "store")]
use propusk_spec::CredentialId;
use propusk_spec::Timestamp;
use propusk_trust_list::{Reason, Verdict};

use crate::Entry;
#[cfg(feature = "store")]
use crate::{Wallet, error::WalletError};

#[cfg(feature = "store")]
impl Wallet {
    /// The credential a person means: `best` (the one to show now), a number from `list` (1 is
    /// the first), a whole id, or the beginning of one id (at least 4 characters, any case).
    pub fn resolve(&self, which: &str, at: Timestamp) -> Result<CredentialId, WalletError> {
        let not_found = || WalletError::NotFound(which.to_owned());
        if which == "best" {
            return match self.best(at)? {
                Best::Valid(e) | Best::ByOwnDates { best: e, .. } => Ok(e.id),
                Best::None(_) => Err(WalletError::NotFound("to show now".into())),
            };
        }
        if let Ok(id) = which.parse::<CredentialId>() {
            return Ok(id);
        }
        let entries = self.list(at)?;
        if let Ok(n) = which.parse::<usize>() {
            return n
                .checked_sub(1)
                .and_then(|i| entries.get(i))
                .map(|e| e.id)
                .ok_or_else(not_found);
        }
        let prefix = which.replace('-', "").to_ascii_uppercase();
        if prefix.len() < 4 {
            return Err(not_found());
        }
        let found: Vec<CredentialId> = entries
            .iter()
            .map(|e| e.id)
            .filter(|id| id.to_string().starts_with(&prefix))
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(not_found()),
            many => Err(WalletError::Ambiguous {
                given: which.to_owned(),
                candidates: many.iter().map(ToString::to_string).collect(),
            }),
        }
    }

    /// The credential a verifier would accept now: among those valid at `at`, the one valid the
    /// longest (a newer one that is not valid yet does not displace it). When the trust data is
    /// missing or too old to vouch for any, the one its own dates and signature still allow,
    /// said so; only when neither finds one, every credential with its reason.
    pub fn best(&self, at: Timestamp) -> Result<Best, WalletError> {
        self.best_of(at, None)
    }

    /// [`Wallet::best`] among one person's credentials: those whose holder's name contains
    /// `person` (any case), when given.
    pub fn best_of(&self, at: Timestamp, person: Option<&str>) -> Result<Best, WalletError> {
        let made_at = self.bundle()?.map(|b| b.content().issued_at);
        Ok(choose(self.list(at)?, at, person, made_at))
    }
}

/// The credential a verifier would accept at `at` among `entries` (see [`Wallet::best`] and
/// [`crate::entries`]), of the person whose name contains `person` (any case) when given;
/// `trust_made_at` is when the trust data they were judged with was made (Unix seconds).
pub fn choose(
    entries: Vec<Entry>,
    at: Timestamp,
    person: Option<&str>,
    trust_made_at: Option<i64>,
) -> Best {
    let entries = of_person(entries, person);
    // An EU twin is for abroad: at home its own credential is shown, when the wallet holds it.
    let held: Vec<_> = entries.iter().map(|e| e.id).collect();
    let entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| e.twin_of.is_none_or(|own| !held.contains(&own)))
        .collect();
    let longest = |verdicts: &[Verdict], reasons: &[Option<Reason>]| {
        entries
            .iter()
            .filter(|e| verdicts.contains(&e.verdict) && reasons.contains(&e.reason))
            .filter(|e| e.valid_until > at && e.issued_at <= at)
            .max_by_key(|e| (e.valid_until, e.issued_at))
            .cloned()
    };
    if let Some(best) = longest(&[Verdict::Valid], &[None]) {
        return Best::Valid(best);
    }
    let untold = [
        Some(Reason::TrustDataExpired),
        Some(Reason::TrustDataMissing),
    ];
    if let Some(best) = longest(&[Verdict::Unknown], &untold) {
        let trust_age_s = trust_made_at.map(|m| at.unix() - m);
        return Best::ByOwnDates { best, trust_age_s };
    }
    Best::None(entries)
}

/// The entries of the person whose name contains `person` (any case, in either script: `иванов`
/// finds `IVANOV IVAN`); all when not given.
pub(crate) fn of_person(entries: Vec<Entry>, person: Option<&str>) -> Vec<Entry> {
    let latin = |s: &str| propusk_spec::translit::text_to_latin(s).to_uppercase();
    let wanted = person.map(|p| (p.to_lowercase(), latin(p)));
    entries
        .into_iter()
        .filter(|e| {
            wanted.as_ref().is_none_or(|(w, l)| {
                e.name.to_lowercase().contains(w.as_str()) || latin(&e.name).contains(l.as_str())
            })
        })
        .collect()
}

/// What `best` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Best {
    /// The one a verifier would accept now, judged with the trust data.
    Valid(Entry),
    /// The trust data is missing or past its hard expiry: the one that the credentials' own
    /// dates still allow (a verifier with fresh data will judge it).
    ByOwnDates {
        /// The credential.
        best: Entry,
        /// How old the wallet's trust data is (`None`: it has none).
        trust_age_s: Option<i64>,
    },
    /// None would be accepted: every credential with its reason.
    None(Vec<Entry>),
}
