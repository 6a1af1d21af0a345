//! A run of verifications at one validation time: the trust data loaded once, then credentials
//! answered as they come — shown together (one person's codes, texts and images in any mix), or
//! as a queue of people, each on their own.

use std::path::PathBuf;

use propusk_eudcc::SignerCertificate;
use propusk_qr::ScanError;
use propusk_spec::Timestamp;
use propusk_trust_list::{
    Bundle, EuSigner, Lang, Locale, Person, Reason, Report, TrustState, Verdict, check_among,
};

mod door;
mod eu;

pub use door::{TOGETHER_S, UnknownPolicy};

#[cfg(feature = "store")]
use crate::error::VerifierError;
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
