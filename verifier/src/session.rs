//! A run of verifications at one validation time: the trust data loaded once, then credentials
//! answered as they come — shown together (one person's codes, texts and images in any mix), or
//! as a queue of people, each on their own.

use std::path::PathBuf;

use propusk_eudcc::SignerCertificate;
use propusk_qr::ScanError;
use propusk_spec::Timestamp;
use propusk_trust_list::{
    Bundle, CheckOutcome, EuSigner, Lang, Locale, Person, Reason, Report, TrustState, Verdict,
    check_among, judge_by_rules,
};

#[cfg(feature = "store")]
use crate::error::VerifierError;
use crate::eu::verify_eu;
use crate::present::{TrustView, summary};
#[cfg(feature = "store")]
use crate::store::Store;

/// One thing a verifier is shown: the text a scanner typed (or a link), or an image of a QR
/// code (a photo of paper, a screenshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Credential text, an `HC1:` certificate or a link.
    Text(String),
    /// A PNG or JPEG file holding a QR code.
    Image(PathBuf),
}

/// Trust data loaded once for a run of verifications at one validation time (a scanner's
/// queue reads the store once, not once per code).
#[derive(Debug)]
pub struct Session {
    /// The trust data of the store's own root: its rules decide for every credential.
    bundle: Option<Bundle>,
    /// The trust data of the other roots the store trusts.
    others: Vec<Bundle>,
    /// EU signers the trust data vouches for (valid only while it is), each with the bundle
    /// that vouches for it (0 the home bundle, then the others') and the bundle's word on it.
    eu_signers: Vec<(SignerCertificate, usize, EuSigner)>,
    /// EU signers given by the verifier's operator (`--trust-cert`), whatever the trust data.
    eu_given: Vec<SignerCertificate>,
    /// When the trust data in force was made (Unix seconds).
    made_at: Option<i64>,
    at: Timestamp,
    /// The validation time is the clock's at each check (a door display or a scanner's queue
    /// that runs for hours), not the time the session was loaded.
    live: bool,
    /// The language of summaries, and the jurisdiction's time zone.
    locale: Locale,
    /// The door's policy, when one was chosen: what one holder's credentials must together be.
    policy: Option<String>,
    /// What one holder showed that the policy found incomplete, and when: the next code within
    /// [`TOGETHER_S`] is judged with it ([`Session::verify_next`]).
    waiting: Option<(Vec<String>, Timestamp)>,
}

/// How long a door waits, after an incomplete verdict, for the same holder's next code.
pub const TOGETHER_S: i64 = 60;

/// A door policy the trust data in force does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no door policy {name}: the rules in force have {}", if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
pub struct UnknownPolicy {
    /// The name asked for.
    pub name: String,
    /// The policies the rules in force have.
    pub known: Vec<String>,
}

impl Session {
    /// Loads the store's trust data for verifications at `at`. Refuses a validation time before
    /// the newest signed trust data seen (the clock guard).
    #[cfg(feature = "store")]
    pub fn load(store: &Store, at: Timestamp) -> Result<Self, VerifierError> {
        store.check_clock(at)?;
        let loaded = store.bundle()?;
        let made_at = loaded.as_ref().map(|(_, m)| m.issued_at);
        let bundle = loaded.map(|(b, _)| b);
        let mut others = Vec::new();
        for root in store.trusted()? {
            let other = store.root_store(&root)?;
            other.check_clock(at)?;
            others.extend(other.bundle()?.map(|(b, _)| b));
        }
        Ok(Session::of(bundle, others, made_at, at))
    }

    /// A session over trust data already opened (each bundle verified against its pinned
    /// root): the own root's `bundle`, made at `made_at` (Unix seconds), and the `others`' (the
    /// browser's engine keeps them itself). The caller keeps the clock guard.
    pub fn of(
        bundle: Option<Bundle>,
        others: Vec<Bundle>,
        made_at: Option<i64>,
        at: Timestamp,
    ) -> Self {
        let locale = Locale {
            lang: Lang::En,
            tz: bundle
                .as_ref()
                .map_or(jiff::tz::TimeZone::UTC, |b| b.rules().time_zone().clone()),
        };
        let eu_signers = bundle
            .iter()
            .map(|b| (b, 0))
            .chain(others.iter().enumerate().map(|(i, b)| (b, i + 1)))
            .flat_map(|(b, i)| b.content().eu_signers.iter().map(move |s| (s, i)))
            .filter_map(|(s, i)| Some((SignerCertificate::from_der(&s.der).ok()?, i, s.clone())))
            .collect();
        Session {
            bundle,
            others,
            eu_signers,
            eu_given: Vec::new(),
            made_at,
            at,
            live: false,
            locale,
            policy: None,
            waiting: None,
        }
    }

    /// A session without any trust data of Propusk's own (a verifier that only has EU signer
    /// certificates): every Propusk credential is `unknown` with `trust_data_missing`.
    pub fn without_trust_data(at: Timestamp) -> Self {
        Session {
            bundle: None,
            others: Vec::new(),
            eu_signers: Vec::new(),
            eu_given: Vec::new(),
            made_at: None,
            at,
            live: false,
            locale: Locale::utc(Lang::En),
            policy: None,
            waiting: None,
        }
    }

    /// The session with more trusted EU signer certificates, given by the operator (on the
    /// command line): they are trusted whatever the state of the trust data.
    pub fn with_eu_signers(mut self, more: Vec<SignerCertificate>) -> Self {
        self.eu_given.extend(more);
        self
    }

    /// The session judging by the door policy `name` of the rules in force: every verdict names
    /// it, and what one holder shows must together meet one of its alternatives. Refused when
    /// the rules in force have no such policy.
    pub fn with_policy(mut self, name: &str) -> Result<Self, UnknownPolicy> {
        self.choose_policy(Some(name))?;
        Ok(self)
    }

    /// Chooses the door policy of a long-lived session (`None`: none); an unknown name is
    /// refused and changes nothing.
    pub fn choose_policy(&mut self, name: Option<&str>) -> Result<(), UnknownPolicy> {
        let Some(name) = name else {
            self.policy = None;
            return Ok(());
        };
        let known = self.policies();
        if !known.iter().any(|k| k == name) {
            return Err(UnknownPolicy {
                name: name.to_owned(),
                known,
            });
        }
        self.policy = Some(name.to_owned());
        Ok(())
    }

    /// The names of the door policies of the rules in force.
    pub fn policies(&self) -> Vec<String> {
        let at = self.at();
        self.bundle
            .as_ref()
            .map(|b| {
                b.rules()
                    .policies(at)
                    .iter()
                    .map(|p| p.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The policy chosen, applied to the reports of what one holder showed.
    fn apply_policy(&self, reports: &mut [Report], at: Timestamp) {
        let (Some(name), Some(home)) = (&self.policy, &self.bundle) else {
            return;
        };
        if let Some(policy) = home.rules().policy(name, at) {
            policy.apply(reports, at);
        }
    }

    /// The session with summaries in `lang` (times stay in the jurisdiction's zone).
    pub fn with_lang(mut self, lang: Lang) -> Self {
        self.locale.lang = lang;
        self
    }

    /// Sets the validation time and the language of what follows (a long-lived session in the
    /// browser, asked again and again).
    pub fn reset(&mut self, at: Timestamp, lang: Lang) {
        self.at = at;
        self.locale.lang = lang;
    }

    /// The language and the jurisdiction's time zone (UTC without trust data).
    pub fn locale(&self) -> &Locale {
        &self.locale
    }

    /// The trust data in force, if any.
    pub fn content(&self) -> Option<&propusk_trust_list::BundleContent> {
        self.bundle.as_ref().map(Bundle::content)
    }

    /// The session with the clock's time as the validation time of every check (for a
    /// verifier that runs on: the time it was loaded would go stale).
    pub fn live(mut self) -> Self {
        self.live = true;
        self
    }

    /// The validation time: the clock's now for a live session.
    pub fn at(&self) -> Timestamp {
        if self.live {
            Timestamp::from_system(std::time::SystemTime::now())
        } else {
            self.at
        }
    }

    /// The trust data's state and age at the validation time.
    pub fn trust(&self) -> TrustView {
        self.trust_at(self.at())
    }

    fn trust_at(&self, at: Timestamp) -> TrustView {
        TrustView {
            state: self
                .bundle
                .as_ref()
                .map_or(TrustState::Missing, |b| b.state(at)),
            age_s: self.made_at.map(|m| at.unix() - m),
        }
    }

    /// Answers inputs shown together — texts and images in any mix — one report per input, in
    /// input order. An image with no readable code is `invalid` with the reason the reader gave.
    pub fn answer(&self, inputs: &[Input]) -> Vec<Report> {
        let mut texts = Vec::with_capacity(inputs.len());
        let mut unreadable = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            match input {
                Input::Text(text) => texts.push(text.clone()),
                Input::Image(path) => match propusk_qr::read_qr_file(path) {
                    Ok(text) => texts.push(text),
                    Err(e) => unreadable.push((i, self.unreadable(&e, path))),
                },
            }
        }
        let mut read = self.verify(&texts).into_iter();
        let mut unreadable = unreadable.into_iter().peekable();
        (0..inputs.len())
            .filter_map(|i| match unreadable.next_if(|(at, _)| *at == i) {
                Some((_, report)) => Some(report),
                None => read.next(),
            })
            .collect()
    }

    fn unreadable(&self, e: &ScanError, path: &std::path::Path) -> Report {
        let reason = match e {
            ScanError::Io { .. } => Reason::UnreadableFile,
            ScanError::TooLarge => Reason::ImageTooLarge,
            ScanError::NoCode | ScanError::Budget => Reason::NoQrCode,
            // NotAnImage, and whatever the reader may name in the future.
            _ => Reason::NotAnImage,
        };
        Report::unreadable(
            reason,
            format!("{}: {e}", path.display()),
            self.trust().state,
        )
    }

    /// Verifies credentials shown together, offline, EU Digital COVID Certificates (`HC1:`)
    /// among them. They must belong to one person: when two verified credentials — of either
    /// kind — disagree on the holder (Latin names or date of birth, see [`Person::matches`]),
    /// each of them that would be valid is invalid with `holder_mismatch`. Reports are in input
    /// order.
    pub fn verify(&self, inputs: &[String]) -> Vec<Report> {
        let mut reports = self.verify_each(inputs);
        let people: Vec<&Person> = reports.iter().filter_map(|r| r.person.as_ref()).collect();
        let one_person = people
            .iter()
            .enumerate()
            .all(|(i, a)| people[i + 1..].iter().all(|b| a.matches(b)));
        if !one_person {
            for r in reports
                .iter_mut()
                .filter(|r| r.person.is_some() && r.verdict == Verdict::Valid)
            {
                r.verdict = Verdict::Invalid;
                r.reason = Some(Reason::HolderMismatch);
                r.detail = Some("the credentials shown together belong to different people".into());
            }
        }
        self.apply_policy(&mut reports, self.at());
        reports
    }

    /// A door's next scan: judged on its own, or — when the door's policy found what the holder
    /// showed just before incomplete (an exemption waiting for its test), less than
    /// [`TOGETHER_S`] ago — together with it, unless it is another person's (then it is the
    /// next person's, judged on its own).
    pub fn verify_next(&mut self, text: String) -> Report {
        let at = self.at();
        let earlier = self
            .waiting
            .take()
            .filter(|(_, since)| self.policy.is_some() && at.unix() - since.unix() <= TOGETHER_S);
        let together = earlier.and_then(|(mut texts, _)| {
            texts.push(text.clone());
            let reports = self.verify(&texts);
            let one = !reports
                .iter()
                .any(|r| r.reason == Some(Reason::HolderMismatch));
            one.then_some((texts, reports))
        });
        let (texts, mut reports) = together.unwrap_or_else(|| {
            let texts = vec![text];
            let reports = self.verify(&texts);
            (texts, reports)
        });
        let report = reports
            .pop()
            .unwrap_or_else(|| Report::blank(TrustState::Missing));
        if report.verdict == Verdict::Incomplete {
            self.waiting = Some((texts, at));
        }
        report
    }

    /// Verifies a queue of people's credentials, each on its own (no holder cross-check), with
    /// one batch signature check over the Propusk credentials among them. Reports are in input
    /// order.
    pub fn verify_queue(&self, inputs: &[String]) -> Vec<Report> {
        let mut reports = self.verify_each(inputs);
        let at = self.at();
        for report in &mut reports {
            self.apply_policy(std::slice::from_mut(report), at);
        }
        reports
    }

    /// An EU certificate against the EU signers: those of a bundle count only while it is
    /// within its hard expiry (as for Propusk's own keys); past it, a certificate that only they
    /// could vouch for is `unknown` with `trust_data_expired`.
    fn verify_eu(&self, text: &str, at: Timestamp) -> Report {
        let state = self.trust_at(at).state;
        let (usable, expired): (Vec<_>, Vec<_>) = self.eu_signers.iter().partition(|(_, i, _)| {
            self.issuer_bundle(*i)
                .is_some_and(|b| b.state(at) != TrustState::Expired)
        });
        let all: Vec<SignerCertificate> = usable
            .iter()
            .map(|(s, _, _)| s)
            .chain(&self.eu_given)
            .cloned()
            .collect();
        let mut report = verify_eu(text, &all, at, state, self.locale.lang);
        if report.reason == Some(Reason::UnknownKey) && !expired.is_empty() {
            report.reason = Some(Reason::TrustDataExpired);
            report.detail = Some("the trust data is past its hard expiry: sync it".into());
        }
        if report.checks.signature == CheckOutcome::Ok {
            report = self.twin_revocation(report, text, &usable);
            report = self.eu_rules(report, text, at);
        }
        report
    }

    /// An EU certificate judged by the door's rules, as every credential is (the home bundle's:
    /// a test counts for the rule's hours from sampling, a vaccination by its course and days
    /// since its date, a recovery by its first positive test), its own expiry still bounding
    /// it. Without trust data there are no rules: the signature alone, as said.
    fn eu_rules(&self, mut report: Report, text: &str, at: Timestamp) -> Report {
        let (Some(home), Ok(hc1)) = (self.bundle.as_ref(), propusk_eudcc::decode(text)) else {
            return report;
        };
        let Some(body) = hc1.body() else {
            report.checks.rules = CheckOutcome::Failed;
            return report.fail(
                Verdict::Invalid,
                Reason::RuleFailed,
                "no rule for what this certificate certifies",
            );
        };
        let expires = report
            .valid_until
            .or_else(|| hc1.expires_at.and_then(Timestamp::from_unix))
            .unwrap_or(at);
        judge_by_rules(report, home.rules(), &body, expires, at)
    }

    /// An EU twin of a Propusk credential, signed by its issuer's own document signer (one
    /// its bundle publishes for its own country): revoked with the credential. Judged by that
    /// issuer's revocation set wherever the verifier holds it, whichever bundle (another
    /// issuer's that imported the signer, or one trusted earlier) also lists the signer; other
    /// EU certificates have no revocation list here.
    fn twin_revocation(
        &self,
        mut report: Report,
        text: &str,
        usable: &[&(SignerCertificate, usize, EuSigner)],
    ) -> Report {
        let Ok(hc1) = propusk_eudcc::decode(text) else {
            return report;
        };
        let uci = hc1.uci();
        // `get`, not slicing: the text is the certificate's, and may hold any character.
        let uci_country = uci
            .and_then(|u| u.strip_prefix("URN:UVCI:01:"))
            .and_then(|u| u.get(..2));
        let id = uci.and_then(propusk_eudcc::twin::credential_id_of);
        let (Some(id), Some(exp), Some(kid), Some(uci_country)) = (
            id,
            hc1.expires_at.and_then(Timestamp::from_unix),
            hc1.key_id.as_deref().and_then(propusk_spec::KeyId::new),
            uci_country,
        ) else {
            return report;
        };
        let issued = hc1.issued_at.and_then(Timestamp::from_unix).unwrap_or(exp);
        // Every bundle that publishes this signer as its own country's, for the country the
        // twin names: its issuer's. Each of them is asked; one that revoked it decides. One
        // past its hard expiry cannot be asked: another bundle's word on the signer does not
        // stand in for its revocations.
        let owners: Vec<(&Bundle, bool)> = self
            .eu_signers
            .iter()
            .filter_map(|entry| {
                let (s, index, vouched) = entry;
                let bundle = self.issuer_bundle(*index)?;
                let own = vouched.country == bundle.content().jurisdiction
                    && vouched.country == uci_country
                    && Some(s.key_id().as_slice()) == hc1.key_id.as_deref();
                let live = usable.iter().any(|u| std::ptr::eq(*u, entry));
                own.then_some((bundle, live))
            })
            .collect();
        if owners.iter().any(|(_, live)| !live) {
            report.checks.revocation = CheckOutcome::Skipped;
            return report.fail(
                Verdict::Unknown,
                Reason::TrustDataExpired,
                "its issuer's trust data is past its hard expiry: sync it",
            );
        }
        for (bundle, _) in owners {
            match bundle.content().revocations.check(&id, exp, &kid, issued) {
                Ok(None) => report.checks.revocation = CheckOutcome::Ok,
                Ok(Some(_)) => {
                    report = report.fail(
                        Verdict::Invalid,
                        Reason::Revoked,
                        "the credential was revoked by its issuer",
                    );
                    report.checks.revocation = CheckOutcome::Failed;
                    return report;
                }
                Err(e) => {
                    report = report.fail(Verdict::Unknown, Reason::TrustDataCorrupt, e.to_string());
                    report.checks.revocation = CheckOutcome::Skipped;
                    return report;
                }
            }
        }
        report
    }

    /// The bundle behind an EU signer: 0 the home bundle, then the others'.
    fn issuer_bundle(&self, index: usize) -> Option<&Bundle> {
        match index {
            0 => self.bundle.as_ref(),
            i => self.others.get(i - 1),
        }
    }

    fn verify_each(&self, inputs: &[String]) -> Vec<Report> {
        let is_eu = |t: &&String| t.starts_with(propusk_eudcc::PREFIX);
        let own: Vec<&str> = inputs
            .iter()
            .filter(|t| !is_eu(t))
            .map(String::as_str)
            .collect();
        // One validation time for everything shown together.
        let at = self.at();
        let others: Vec<&Bundle> = self.others.iter().collect();
        let mut own_reports = check_among(self.bundle.as_ref(), &others, &own, at).into_iter();
        let mut reports = Vec::with_capacity(inputs.len());
        for text in inputs {
            if is_eu(&text) {
                reports.push(self.verify_eu(text, at));
            } else if let Some(mut report) = own_reports.next() {
                report.summary = report.credential.as_ref().map(|c| summary(c, &self.locale));
                reports.push(report);
            }
        }
        reports
    }
}

/// Verifies credentials shown together at `at` (see [`Session::verify`]).
#[cfg(feature = "store")]
pub fn verify_all(
    store: &Store,
    inputs: &[String],
    at: Timestamp,
) -> Result<Vec<Report>, VerifierError> {
    Ok(Session::load(store, at)?.verify(inputs))
}

#[cfg(test)]
mod live_tests {
    use super::*;

    #[test]
    fn a_live_session_checks_at_the_clock_a_fixed_one_at_its_time() {
        let then = Timestamp::from_unix(1_600_000_000).unwrap_or_else(|| unreachable!());
        assert_eq!(Session::without_trust_data(then).at(), then);
        let live = Session::without_trust_data(then).live();
        assert!(
            live.at() > then.plus_seconds(86_400 * 365),
            "the clock's now, not 2020"
        );
    }
}
