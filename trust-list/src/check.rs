//! The one engine that judges a scanned credential against trust data: the verifier's verdict
//! and the wallet's "best credential" both come from here.

use propusk_spec::{
    Body, Error as FormatError, KeyId, Timestamp, UnverifiedCredential, VerifiedCredential,
    decode_any, verify_batch,
};

use crate::bundle::{Bundle, TrustState};
use crate::person::Person;
use crate::reason::Reason;
pub use crate::report::{CheckOutcome, Checks, HolderView, IssuerView, Report, Verdict};
use crate::revocation::Revoked;
use crate::rules::Rules;

/// Judges one scanned input (credential text or a Propusk link) at `at` against the bundle (or
/// none, when the verifier has no trust data).
pub fn check(bundle: Option<&Bundle>, input: &str, at: Timestamp) -> Report {
    check_many(bundle, &[input], at)
        .pop()
        .unwrap_or_else(|| Report::blank(TrustState::Missing))
}

/// Judges a credential its issuer proved is its own (see
/// [`propusk_spec::UnverifiedCredential::vouched_for`]) against the issuer's own trust data,
/// every check but the signature's: the key's status and usage, the revocations, the rules.
/// `None` when the issuer has no trust data in force or does not list the key: [`check`] then
/// judges the text and says why.
pub fn check_vouched(
    home: Option<&Bundle>,
    u: &UnverifiedCredential,
    at: Timestamp,
) -> Option<Report> {
    let bundle = home?;
    let state = bundle.state(at);
    let verified = u.vouched_for(bundle.trust_list())?;
    if state == TrustState::Expired {
        return None;
    }
    let report = decoded(Report::blank(state), u);
    Some(judge(report, bundle, bundle, Ok(verified), at))
}

/// Judges many inputs at once, each on its own (one report per input, in order), verifying all
/// their signatures in one Ed25519 batch when there are several.
pub fn check_many(bundle: Option<&Bundle>, inputs: &[&str], at: Timestamp) -> Vec<Report> {
    check_among(bundle, &[], inputs, at)
}

/// Judges many inputs against the trust data of several issuers: `home`, the verifier's own
/// jurisdiction, whose rules decide acceptance for every credential, and `others`, the roots it
/// trusts besides (neighbouring countries). A credential belongs to the issuer whose key
/// verifies its signature — every issuer listing its key id is tried, home first, then `others`
/// in order — and that issuer's key entry and revocations judge it. A key that several issuers
/// list (the same public key) is judged by each of them, and the worst answer stands (invalid
/// before cannot tell before valid): whichever root was trusted first, one root's bundle cannot
/// vouch, unrevoked, for another root's key and override its revocations.
pub fn check_among(
    home: Option<&Bundle>,
    others: &[&Bundle],
    inputs: &[&str],
    at: Timestamp,
) -> Vec<Report> {
    let state = home.map_or(TrustState::Missing, |b| b.state(at));
    let issuers: Vec<&Bundle> = home.into_iter().chain(others.iter().copied()).collect();
    let mut reports = Vec::with_capacity(inputs.len());
    // Per issuer: the inputs whose first candidate it is; then inputs with further candidates.
    let mut pending: Vec<Vec<(usize, UnverifiedCredential)>> = vec![Vec::new(); issuers.len()];
    let mut candidates: Vec<Vec<usize>> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let mut report = Report::blank(state);
        let mut found = Vec::new();
        match decode_any(input) {
            Err(e) => {
                report.checks.decode = CheckOutcome::Failed;
                let reason = Reason::of_format_error(&e);
                let verdict = if reason == Reason::OnlineOnly {
                    Verdict::Unknown
                } else {
                    Verdict::Invalid
                };
                report = report.fail(verdict, reason, e.to_string());
            }
            Ok(u) => {
                report = decoded(report, &u);
                let claims = u.unverified_claims();
                found = owners(&issuers, u.key_id());
                let usable: Vec<usize> = found
                    .iter()
                    .copied()
                    .filter(|&j| issuers[j].state(at) != TrustState::Expired)
                    .collect();
                if home.is_none() {
                    report = report.fail(
                        Verdict::Unknown,
                        Reason::TrustDataMissing,
                        "the verifier has no trust data: sync it",
                    );
                } else if state == TrustState::Expired || usable.len() < found.len() {
                    // An issuer that lists the key is past its hard expiry: its word on it (a
                    // revocation, a compromise) cannot be heard, and no other stands in for it.
                    report = report.fail(
                        Verdict::Unknown,
                        Reason::TrustDataExpired,
                        "the trust data is past its hard expiry: sync it",
                    );
                } else if let Some(&first) = usable.first() {
                    pending[first].push((i, u));
                } else if issuers
                    .iter()
                    .all(|b| b.content().issued_at > claims.issued_at.unix())
                {
                    // Each trusted issuer made its data after this was issued, by a key that
                    // existed then: had one of them made it, its data would list the key.
                    report = report.fail(
                        Verdict::Unknown,
                        Reason::UntrustedIssuer,
                        format!(
                            "key {} is none of the trusted issuers': its issuer is not trusted here",
                            u.key_id()
                        ),
                    );
                } else {
                    report = report.fail(
                        Verdict::Unknown,
                        Reason::UnknownKey,
                        format!("key {} is not in the trust list", u.key_id()),
                    );
                }
                found = usable;
            }
        }
        reports.push(report);
        candidates.push(found);
    }
    let Some(home) = home else {
        return reports;
    };
    for (first, group) in pending.into_iter().enumerate() {
        let (slots, items): (Vec<usize>, Vec<UnverifiedCredential>) = group.into_iter().unzip();
        let trust_list = issuers[first].trust_list();
        let verified = match items.as_slice() {
            [one] => vec![one.verify(trust_list)],
            many => verify_batch(many, trust_list),
        };
        for ((slot, item), mut result) in slots.into_iter().zip(&items).zip(verified) {
            let mut issuer = first;
            // A key id that several issuers use: the signature tells whose credential it is.
            for &other in &candidates[slot][1..] {
                if result.is_ok() {
                    break;
                }
                issuer = other;
                result = item.verify(issuers[other].trust_list());
            }
            if result.is_err() {
                issuer = first;
            }
            let before = std::mem::replace(&mut reports[slot], Report::blank(state));
            let judged_by = |j: usize, result| {
                let mut report = before.clone();
                report.trust_state = state.worse(issuers[j].state(at));
                judge(report, issuers[j], home, result, at)
            };
            let mut report = judged_by(issuer, result);
            // Every other issuer that lists the same public key judges it too.
            let public = issuers[issuer]
                .trust_list()
                .key(item.key_id())
                .map(|k| k.public_key.as_slice());
            for &other in &candidates[slot] {
                let same = issuers[other]
                    .trust_list()
                    .key(item.key_id())
                    .is_some_and(|k| Some(k.public_key.as_slice()) == public);
                if other == issuer || !same {
                    continue;
                }
                let again = judged_by(other, item.verify(issuers[other].trust_list()));
                if severity(again.verdict) > severity(report.verdict) {
                    report = again;
                }
            }
            reports[slot] = report;
        }
    }
    reports
}

/// `report` of a credential that decoded: what it says it is, before any check of it.
fn decoded(mut report: Report, u: &UnverifiedCredential) -> Report {
    report.checks.decode = CheckOutcome::Ok;
    let claims = u.unverified_claims();
    report.credential_type = Some(claims.credential_type());
    report.id = Some(claims.id);
    report.key_id = Some(u.key_id().clone());
    report
}

/// How bad a verdict is when several issuers judge one credential: a positive refusal (revoked,
/// compromised) outweighs a "cannot tell", which outweighs "valid".
fn severity(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Valid => 0,
        Verdict::Incomplete => 1,
        Verdict::Unknown | Verdict::Unread => 2,
        Verdict::Invalid => 3,
    }
}

/// The issuers (indexes into `issuers`) whose trust list has a key under `id`, in order.
fn owners(issuers: &[&Bundle], id: &KeyId) -> Vec<usize> {
    (0..issuers.len())
        .filter(|&j| issuers[j].trust_list().key(id).is_some())
        .collect()
}

/// Every check after decoding, given the signature's outcome.
fn judge(
    mut report: Report,
    bundle: &Bundle,
    home: &Bundle,
    verified: Result<VerifiedCredential, FormatError>,
    at: Timestamp,
) -> Report {
    let verified = match verified {
        Ok(v) => v,
        Err(FormatError::UnknownKey(kid)) => {
            return report.fail(
                Verdict::Unknown,
                Reason::UnknownKey,
                format!("key {kid} is not in the trust list"),
            );
        }
        Err(e) => {
            report.checks.signature = CheckOutcome::Failed;
            return report.fail(Verdict::Invalid, Reason::BadSignature, e.to_string());
        }
    };
    report.checks.signature = CheckOutcome::Ok;
    let c = verified.credential();
    report.holder = Some(HolderView::of(c));
    report.person = Some(Person::of(&c.holder));

    // safe: verify() found the key by this id a moment ago.
    let key = bundle.trust_list().key(verified.key_id());
    report.issuer = key.map(|k| IssuerView {
        name: k.issuer.clone(),
        country: k.country.clone(),
    });
    report.checks.key_usage = match key.map(|k| k.allows(c)) {
        Some(Ok(())) => CheckOutcome::Ok,
        Some(Err(refusal)) => {
            report = report.fail(Verdict::Invalid, refusal.reason(), refusal.to_string());
            CheckOutcome::Failed
        }
        None => CheckOutcome::Skipped,
    };

    report.checks.expiry = if at >= c.expires_at {
        report = report.fail(
            Verdict::Invalid,
            Reason::Expired,
            format!("expired at {}", c.expires_at),
        );
        CheckOutcome::Failed
    } else if at < c.issued_at {
        report = report.fail(
            Verdict::Invalid,
            Reason::NotYetValid,
            format!("issued in the future, at {}", c.issued_at),
        );
        CheckOutcome::Failed
    } else {
        CheckOutcome::Ok
    };

    report.checks.revocation = match bundle.content().revocations.check(
        &c.id,
        c.expires_at,
        verified.key_id(),
        c.issued_at,
    ) {
        Ok(None) => CheckOutcome::Ok,
        Ok(Some(Revoked::Credential)) => {
            report = report.fail(
                Verdict::Invalid,
                Reason::Revoked,
                "the credential was revoked by its issuer",
            );
            CheckOutcome::Failed
        }
        Ok(Some(Revoked::Key)) => {
            report = report.fail(
                Verdict::Invalid,
                Reason::KeyRevoked,
                "everything its key signed before a time was withdrawn",
            );
            CheckOutcome::Failed
        }
        Err(e) => {
            report = report.fail(Verdict::Unknown, Reason::TrustDataCorrupt, e.to_string());
            CheckOutcome::Skipped
        }
    };

    report = judge_by_rules(report, home.rules(), &c.body, c.expires_at, at);
    report.credential = Some(verified.into_credential());
    report
}

/// The door's rules on what a credential certifies (`body`), whoever issued it in whatever
/// form: valid no longer than the rules allow nor than `expires_at`, its own expiry claim; a
/// refusal by a version of the rules that is not the first names that version's first day.
pub fn judge_by_rules(
    mut report: Report,
    rules: &Rules,
    body: &Body,
    expires_at: Timestamp,
    at: Timestamp,
) -> Report {
    report.body = Some(body.clone());
    let outcome = rules.evaluate_body(body, at);
    report.valid_until = Some(match outcome.valid_until {
        Some(until) => until.min(expires_at),
        None => expires_at,
    });
    report.checks.rules = match outcome.result {
        Ok(()) => CheckOutcome::Ok,
        Err(f) => {
            let why = match outcome.changed_since {
                Some(since) => format!("{} (the rules in force since {since})", f.why()),
                None => f.why().to_owned(),
            };
            if report.reason.is_none() {
                report.rules_since = outcome.changed_since;
            }
            report = report.fail(Verdict::Invalid, f.reason(), why);
            CheckOutcome::Failed
        }
    };
    report
}
