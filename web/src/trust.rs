//! The trust data the browser keeps: per pinned root, the full bundle and the deltas taken since
//! (as the command line's store keeps them), checked by the verifier's own code before they are
//! kept, and rebuilt and checked again each time the app starts.

use ed25519_dalek::VerifyingKey;
use propusk_spec::Timestamp;
use propusk_trust_list::{Bundle, BundleContent, Index, content_digest};
use propusk_verifier::{
    InForce, Lang, Offered, SyncOutcome, TrustView, VerifierError, delta_from, freshness_warning,
    offered_bundle, offered_delta, rebuild, sync_words,
};
use serde_json::{Value, json};

use crate::EngineError;

/// What is kept of one root's trust data (in IndexedDB between visits).
#[derive(Clone, Debug)]
pub(crate) struct Kept {
    pub(crate) bundle: Vec<u8>,
    pub(crate) deltas: Vec<Vec<u8>>,
    /// The trust data in force, opened.
    pub(crate) opened: Bundle,
    pub(crate) digest: String,
    /// The newest signed time taken (the clock guard).
    pub(crate) seen: i64,
    /// When it was last synced (Unix seconds).
    pub(crate) synced_at: i64,
    /// The index's hash of the full bundle for the sequence in force, when it was taken: an
    /// index naming the same sequence with another bundle is looked into, not taken as news of
    /// nothing (an issuer that signed two bundles with one sequence is found out, as
    /// `verifier sync` finds it).
    pub(crate) full_sha256: Option<String>,
}

/// A pinned root and its trust data.
#[derive(Debug)]
pub(crate) struct Root {
    pub(crate) key: VerifyingKey,
    pub(crate) kept: Option<Kept>,
    /// The index of a sync under way, between `index` and `take`.
    index: Option<Index>,
}

impl Root {
    pub(crate) fn new(key: VerifyingKey) -> Self {
        Root {
            key,
            kept: None,
            index: None,
        }
    }

    /// The trust data kept, rebuilt from its files: refused (and nothing kept) unless it
    /// verifies against the root and comes to the sequence and digest recorded.
    pub(crate) fn restore(
        &mut self,
        meta: &Value,
        bundle: Vec<u8>,
        deltas: Vec<Vec<u8>>,
    ) -> Result<(), EngineError> {
        let number = |k: &str| {
            meta[k]
                .as_i64()
                .ok_or(EngineError::Request("a kept number"))
        };
        let sequence = u64::try_from(number("sequence")?)
            .map_err(|_| EngineError::Request("a kept sequence"))?;
        let digest = meta["digest"]
            .as_str()
            .ok_or(EngineError::Request("a kept digest"))?;
        let content = rebuild(
            &bundle,
            deltas.iter().map(Vec::as_slice),
            &self.key,
            sequence,
            digest,
        )?;
        // The clock guard's newest signed time is the kept data's own, not what was stored
        // beside it: a stored `seen` set far ahead would lock the app out for good.
        let seen = number("seen")?.min(content.issued_at);
        self.kept = Some(Kept {
            bundle,
            deltas,
            opened: open(content)?,
            digest: digest.to_owned(),
            seen,
            synced_at: number("synced_at")?,
            full_sha256: meta["full_sha256"].as_str().map(str::to_owned),
        });
        Ok(())
    }

    /// Reads a signed index: what to fetch next, if anything.
    pub(crate) fn index(&mut self, bytes: &[u8]) -> Result<Value, EngineError> {
        let index = Index::open(bytes, &self.key).map_err(VerifierError::from)?;
        let current = self.kept.as_ref().map(|k| k.opened.sequence());
        let same_bundle = self
            .kept
            .as_ref()
            .is_some_and(|k| k.full_sha256.as_deref() == Some(index.full_sha256.as_str()));
        let answer = if current == Some(index.sequence) && same_bundle {
            json!({"up_to_date": index.sequence})
        } else if let Some(held) = current.filter(|&held| held > index.sequence) {
            // A source behind the data in force: lag, kept as it is (see the command line's).
            let words = |lang| {
                sync_words(
                    &SyncOutcome::Behind {
                        source: index.sequence,
                        held,
                    },
                    lang,
                )
            };
            json!({"up_to_date": held, "behind": index.sequence,
                   "words": {"en": words(Lang::En), "ru": words(Lang::Ru)}})
        } else if let Some(delta) = delta_from(&index, current) {
            json!({"fetch": delta.file, "delta": true, "full": index.full})
        } else {
            json!({"fetch": index.full, "delta": false})
        };
        self.index = Some(index);
        Ok(answer)
    }

    /// Takes the file the index named into force, after the same checks as the command line's
    /// store; nothing changes when they fail.
    pub(crate) fn take(
        &mut self,
        bytes: Vec<u8>,
        delta: bool,
        now: Timestamp,
    ) -> Result<SyncOutcome, EngineError> {
        let index = self
            .index
            .as_ref()
            .ok_or(EngineError::Request("take before index"))?;
        if propusk_trust_list::sha256_hex(&bytes) != expected_hash(index, delta, &self.kept)? {
            return Err(VerifierError::IndexMismatch.into());
        }
        let from = self.kept.as_ref().map(|k| k.opened.sequence());
        let kept = match (delta, &self.kept) {
            (true, Some(kept)) => {
                let taken = offered_delta(&bytes, index, &self.key, kept.opened.content(), now)?;
                let mut deltas = kept.deltas.clone();
                deltas.push(bytes);
                Kept {
                    bundle: kept.bundle.clone(),
                    deltas,
                    digest: content_digest(&taken.content).map_err(VerifierError::from)?,
                    opened: open(taken.content)?,
                    seen: taken.newest,
                    synced_at: now.unix(),
                    full_sha256: Some(index.full_sha256.clone()),
                }
            }
            (true, None) => {
                return Err(EngineError::Request("a delta with nothing to apply it to"));
            }
            (false, kept) => {
                let in_force = kept.as_ref().map(|k| InForce {
                    sequence: k.opened.sequence(),
                    jurisdiction: &k.opened.content().jurisdiction,
                    digest: &k.digest,
                });
                match offered_bundle(&bytes, Some(index), &self.key, in_force, now)? {
                    Offered::UpToDate(sequence) => {
                        if let Some(kept) = self.kept.as_mut() {
                            kept.full_sha256 = Some(index.full_sha256.clone());
                        }
                        self.index = None;
                        return Ok(SyncOutcome::UpToDate(sequence));
                    }
                    Offered::Newer {
                        bundle,
                        digest,
                        newest,
                    } => Kept {
                        opened: *bundle,
                        bundle: bytes,
                        deltas: Vec::new(),
                        digest,
                        seen: newest,
                        synced_at: now.unix(),
                        full_sha256: Some(index.full_sha256.clone()),
                    },
                }
            }
        };
        let to = kept.opened.sequence();
        self.kept = Some(kept);
        self.index = None;
        Ok(SyncOutcome::Updated { from, to })
    }

    /// What is shown of it: sequence, jurisdiction, issuer, state and age, in words too.
    pub(crate) fn status(&self, now: Timestamp, lang: Lang) -> Value {
        let Some(kept) = &self.kept else {
            let view = TrustView {
                state: propusk_trust_list::TrustState::Missing,
                age_s: None,
            };
            return json!({
                "state": "missing",
                "warning": freshness_warning(view, lang),
            });
        };
        let c = kept.opened.content();
        let view = TrustView {
            state: propusk_trust_list::TrustState::of(c, now),
            age_s: Some(now.unix() - c.issued_at),
        };
        let locale = propusk_verifier::Locale {
            lang,
            tz: kept.opened.rules().time_zone().clone(),
        };
        json!({
            "sequence": c.sequence,
            "jurisdiction": c.jurisdiction,
            "issuer": c.keys.first().map(|k| k.issuer.clone()),
            "state": view.state.as_str(),
            "state_words": propusk_trust_list::words::trust_state(view.state, lang),
            "issued_at": c.issued_at,
            "age_words": locale.age(now.unix() - c.issued_at),
            "synced_at": kept.synced_at,
            "revocations": c.revocations.len(),
            "policies": kept.opened.rules().policies(now).iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            "warning": freshness_warning(view, lang),
        })
    }
}

/// The hash the index gives for the file a sync fetched.
fn expected_hash<'a>(
    index: &'a Index,
    delta: bool,
    kept: &Option<Kept>,
) -> Result<&'a str, EngineError> {
    if !delta {
        return Ok(&index.full_sha256);
    }
    delta_from(index, kept.as_ref().map(|k| k.opened.sequence()))
        .map(|d| d.sha256.as_str())
        .ok_or(EngineError::Request("the index names no delta from here"))
}

fn open(content: BundleContent) -> Result<Bundle, EngineError> {
    Bundle::from_content(content).map_err(|e| VerifierError::from(e).into())
}

/// The words for a sync's outcome.
pub(crate) fn outcome_json(outcome: &SyncOutcome, lang: Lang) -> Value {
    let (from, to) = match outcome {
        SyncOutcome::Updated { from, to } => (*from, *to),
        SyncOutcome::UpToDate(s) | SyncOutcome::Behind { held: s, .. } => (Some(*s), *s),
    };
    json!({"from": from, "to": to, "words": sync_words(outcome, lang)})
}
