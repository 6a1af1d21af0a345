//! The portal's judgements of credentials, kept while they hold: the same publication served,
//! and — for a valid one — before its end; a QR code scanned again and again at a door is judged
//! once. A credential whose row carries the issuer's proof (this issuer stored it, having signed
//! it) is judged by every check but the signature's; any other has its signature checked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use propusk_spec::{CredentialId, Timestamp, UnverifiedCredential};
use propusk_trust_list::{Reason, Verdict};

use super::{AppState, now};
use crate::proof::proves_credential;

/// Judgements kept at most; past it the store starts again (memory stays bounded).
const CAPACITY: usize = 100_000;

/// What the engine said of a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Judged {
    pub(crate) verdict: Verdict,
    pub(crate) reason: Option<Reason>,
    pub(crate) valid_until: Option<Timestamp>,
    sequence: u64,
}

impl Judged {
    /// Whether it still holds at `now` (the publication is checked by the caller).
    fn holds(&self, now: Timestamp) -> bool {
        match self.verdict {
            Verdict::Valid => self.valid_until.is_some_and(|until| now < until),
            Verdict::Invalid => true,
            Verdict::Unknown | Verdict::Incomplete | Verdict::Unread => false,
        }
    }

    /// Whether time cannot change it while the publication stays: valid (until its end), or
    /// invalid for a reason that does not pass.
    fn lasting(&self) -> bool {
        matches!(
            (self.verdict, self.reason),
            (Verdict::Valid, _)
                | (
                    Verdict::Invalid,
                    Some(
                        Reason::Expired
                            | Reason::Revoked
                            | Reason::KeyRevoked
                            | Reason::KeyRetired
                            | Reason::KeyUsage
                            | Reason::BadSignature
                            | Reason::Corrupt
                            | Reason::RuleFailed
                    )
                )
        )
    }
}

/// The kept judgements.
#[derive(Debug, Default)]
pub(crate) struct Judgements(Mutex<HashMap<CredentialId, Judged>>);

impl AppState {
    /// The verifiers' engine on `text` (credential `id`, decoded as `decoded`, its row's
    /// `proof` over it and the holder's record `holder`) now, against the trust bundle served.
    pub(crate) fn judge(
        &self,
        id: &CredentialId,
        (text, decoded): (&str, &UnverifiedCredential),
        (proof, holder): (Option<&[u8]>, Option<&[u8]>),
    ) -> Judged {
        let sequence = self.serving.load(Ordering::Acquire);
        let now = now();
        let kept = self.judged.0.lock().ok().and_then(|k| k.get(id).copied());
        if let Some(j) = kept.filter(|j| j.sequence == sequence && j.holds(now)) {
            return j;
        }
        let bundle = self.bundle.read().ok().and_then(|b| b.clone());
        let proven = match (&self.prover, proof) {
            (Some(prover), Some(proof)) => proves_credential(prover, proof, id, text, holder),
            _ => false,
        };
        let vouched = proven
            .then(|| propusk_trust_list::check_vouched(bundle.as_deref(), decoded, now))
            .flatten();
        let report = match vouched {
            Some(report) => {
                super::metrics::JUDGED_PROVEN.fetch_add(1, Ordering::Relaxed);
                report
            }
            None => {
                super::metrics::JUDGED_CHECKED.fetch_add(1, Ordering::Relaxed);
                propusk_trust_list::check(bundle.as_deref(), text, now)
            }
        };
        let judged = Judged {
            verdict: report.verdict,
            reason: report.reason,
            valid_until: report.valid_until,
            sequence,
        };
        if judged.lasting()
            && let Ok(mut kept) = self.judged.0.lock()
        {
            if kept.len() >= CAPACITY {
                kept.clear();
            }
            kept.insert(*id, judged);
        }
        judged
    }
}
