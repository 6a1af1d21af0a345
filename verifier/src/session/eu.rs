//! EU Digital COVID Certificates in a session: checked against the EU signers the trust data
//! vouches for (or the operator gave), a twin against its own issuer's revocations, and every
//! one by the door's rules.

use propusk_eudcc::SignerCertificate;
use propusk_spec::Timestamp;
use propusk_trust_list::{
    Bundle, CheckOutcome, EuSigner, EuTrustData, Reason, Report, TrustState, Verdict,
    judge_by_rules,
};

use super::Session;
use crate::eu::verify_eu_with;

impl Session {
    /// An EU certificate against the EU signers: those of a bundle count only while it is
    /// within its hard expiry (as for Propusk's own keys); past it, a certificate that only they
    /// could vouch for is `unknown` with `trust_data_expired`.
    pub(super) fn verify_eu(&self, text: &str, at: Timestamp) -> Report {
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
        let data: Vec<&EuTrustData> = self
            .bundle
            .iter()
            .chain(&self.others)
            .filter(|b| b.state(at) != TrustState::Expired)
            .map(|b| &b.content().eu)
            .collect();
        let mut report = verify_eu_with(text, &all, at, state, self.locale.lang, &data);
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
}
