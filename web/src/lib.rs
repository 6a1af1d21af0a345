//! The Propusk engine for the browser: the verifier's judging (`propusk_verifier::Session`,
//! the same code as `propusk verify`), the trust data's checks before it is kept, the QR reader
//! and the QR renderer, compiled to WebAssembly. JavaScript only drives the camera, storage and
//! the page: it sends an operation and bytes, and reads JSON back.
//!
//! A request is `[u32 LE length of a JSON header][the header][payload bytes]`; the answer is
//! JSON (`{"error": …, "code": …}` when it failed), except `kept` (frames, `[u32 LE length]
//! [bytes]`…: a JSON header, the bundle, each delta) and `pdf` (the PDF's bytes). The same
//! [`Engine::handle`] runs natively in this crate's tests.

// Each WebAssembly module is built with one of the two features (scripts/build-web.sh); what
// the other needs goes unused there.
#![cfg_attr(
    not(all(feature = "engine", feature = "pdf")),
    allow(dead_code, unused_imports)
)]

use ed25519_dalek::VerifyingKey;
use propusk_spec::Timestamp;
use propusk_verifier::{Lang, Session, VerifierError};
use serde_json::{Value, json};

pub mod exports;
mod judge;
mod trust;
mod wallet;

use trust::Root;

/// Why an operation failed.
#[derive(Debug)]
pub enum EngineError {
    /// The request is not one the engine understands (a bug in the page, not a verdict).
    Request(&'static str),
    /// The verifier refused (trust data that does not verify, a clock set back, …).
    Verifier(VerifierError),
    /// The wallet refused (a credential it cannot print, …), in words.
    Refused(String),
    /// The page chose a door policy the rules in force do not have.
    Policy(String),
}

impl From<VerifierError> for EngineError {
    fn from(e: VerifierError) -> Self {
        EngineError::Verifier(e)
    }
}

impl EngineError {
    fn to_json(&self) -> Value {
        match self {
            EngineError::Request(what) => {
                json!({"error": format!("bad request: {what}"), "code": "request"})
            }
            EngineError::Verifier(e) => json!({"error": e.to_string(), "code": verifier_code(e)}),
            EngineError::Refused(why) => json!({"error": why, "code": "refused"}),
            EngineError::Policy(why) => json!({"error": why, "code": "unknown_policy"}),
        }
    }
}

/// A short code for the page to act on (the words are for people).
fn verifier_code(e: &VerifierError) -> &'static str {
    match e {
        VerifierError::ClockBehind { .. } => "clock_behind",
        VerifierError::FromTheFuture { .. } => "from_the_future",
        VerifierError::IndexMismatch => "index_mismatch",
        VerifierError::Corrupt(_) => "corrupt",
        VerifierError::Trust(propusk_trust_list::TrustError::Rollback { .. }) => "rollback",
        VerifierError::Trust(propusk_trust_list::TrustError::BadSignature) => "bad_signature",
        VerifierError::Trust(propusk_trust_list::TrustError::WrongRoot(_)) => "wrong_root",
        VerifierError::Trust(_) => "trust",
        _ => "verifier",
    }
}

/// The engine's state: the pinned roots (the first is the app's own: its rules decide), their
/// trust data, and a session over it, rebuilt when the trust data changes.
#[derive(Debug, Default)]
pub struct Engine {
    roots: Vec<Root>,
    session: Option<Session>,
}

/// A parsed request: the header and the payload.
struct Request<'a> {
    header: Value,
    payload: &'a [u8],
}

impl Request<'_> {
    fn now(&self) -> Result<Timestamp, EngineError> {
        self.header["now"]
            .as_i64()
            .and_then(Timestamp::from_unix)
            .ok_or(EngineError::Request("now: Unix seconds"))
    }

    fn lang(&self) -> Lang {
        Lang::from_preference(self.header["lang"].as_str().unwrap_or("en"))
    }
}

fn parse(request: &[u8]) -> Result<Request<'_>, EngineError> {
    let (header, payload) = frame(request).ok_or(EngineError::Request("framing"))?;
    let header = serde_json::from_slice(header).map_err(|_| EngineError::Request("JSON header"))?;
    Ok(Request { header, payload })
}

/// The first frame of `bytes` and the rest.
fn frame(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let end = len.checked_add(4)?;
    Some((bytes.get(4..end)?, bytes.get(end..)?))
}

/// Every frame of `bytes`.
fn frames(mut bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (body, rest) = frame(bytes)?;
        out.push(body);
        bytes = rest;
    }
    Some(out)
}

/// `bytes` as frames.
pub fn framed<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    out
}

impl Engine {
    /// Runs one operation on a request; the answer's bytes (JSON, or frames for `kept`).
    pub fn handle(&mut self, op: &str, request: &[u8]) -> Vec<u8> {
        let answer = parse(request).and_then(|r| self.run(op, &r));
        match answer {
            Ok(Answer::Json(v)) => v.to_string().into_bytes(),
            Ok(Answer::Bytes(b)) => b,
            Err(e) => e.to_json().to_string().into_bytes(),
        }
    }

    fn run(&mut self, op: &str, r: &Request<'_>) -> Result<Answer, EngineError> {
        match op {
            #[cfg(feature = "pdf")]
            "pdf" => {
                let text = r.header["text"]
                    .as_str()
                    .ok_or(EngineError::Request("text"))?;
                let context = wallet::context_from(&r.header["context"])?;
                wallet::pdf(text, &texts(&r.header)?, &context).map(Answer::Bytes)
            }
            #[cfg(feature = "engine")]
            op => self.run_engine(op, r),
            #[cfg(not(feature = "engine"))]
            _ => Err(EngineError::Request("no such operation")),
        }
    }

    #[cfg(feature = "engine")]
    fn run_engine(&mut self, op: &str, r: &Request<'_>) -> Result<Answer, EngineError> {
        let json = Answer::Json;
        match op {
            "pin" => self.pin(&r.header).map(json),
            "restore" => self.restore(r).map(json),
            "index" => {
                let root = self.root(&r.header)?;
                root.index(r.payload).map(json)
            }
            "take" => {
                let (delta, now, lang) = (
                    r.header["delta"].as_bool() == Some(true),
                    r.now()?,
                    r.lang(),
                );
                let root = self.root(&r.header)?;
                let outcome = root.take(r.payload.to_vec(), delta, now)?;
                self.session = None;
                Ok(json(trust::outcome_json(&outcome, lang)))
            }
            "kept" => self.kept(&r.header).map(Answer::Bytes),
            "status" => {
                let (now, lang) = (r.now()?, r.lang());
                Ok(json(Value::Array(
                    self.roots
                        .iter()
                        .map(|root| root.status(now, lang))
                        .collect(),
                )))
            }
            "verify" => self.verify(r).map(json),
            "scan" => judge::scan(r).map(json),
            "image" => Ok(json(judge::image(r.payload))),
            "qr" => judge::qr(&r.header).map(json),
            "wallet" => {
                let (now, lang) = (r.now()?, r.lang());
                let texts = texts(&r.header)?;
                let notes = wallet::notes(&texts, &r.header);
                Ok(json(wallet::list(
                    &texts,
                    &notes,
                    &self.trusted(),
                    now,
                    lang,
                )))
            }
            "trip" => {
                let (now, lang) = (r.now()?, r.lang());
                let texts = texts(&r.header)?;
                let notes = wallet::notes(&texts, &r.header);
                wallet::trip(&texts, &notes, &self.trusted(), &r.header, now, lang).map(json)
            }
            "identify" => {
                let text = r.header["text"]
                    .as_str()
                    .ok_or(EngineError::Request("text"))?;
                Ok(json(identify(text.trim())))
            }
            "pdf_context" => {
                let text = r.header["text"]
                    .as_str()
                    .ok_or(EngineError::Request("text"))?;
                Ok(json(wallet::context(text, self.home())))
            }
            _ => Err(EngineError::Request("no such operation")),
        }
    }

    /// Pins the roots (hex public keys, the app's own first); trust data of roots no longer
    /// pinned is dropped.
    fn pin(&mut self, header: &Value) -> Result<Value, EngineError> {
        let keys = header["roots"]
            .as_array()
            .ok_or(EngineError::Request("roots: a list"))?;
        let mut roots = Vec::new();
        for key in keys {
            let bytes = key
                .as_str()
                .and_then(propusk_spec::hex::decode)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or(EngineError::Request("a root: 64 hex digits"))?;
            let key = VerifyingKey::from_bytes(&bytes)
                .map_err(|_| EngineError::Request("a root: not a public key"))?;
            roots.push(Root::new(key));
        }
        self.roots = roots;
        self.session = None;
        Ok(json!({"roots": self.roots.len()}))
    }

    fn root(&mut self, header: &Value) -> Result<&mut Root, EngineError> {
        header["root"]
            .as_u64()
            .and_then(|i| self.roots.get_mut(i as usize))
            .ok_or(EngineError::Request("root: the number of a pinned root"))
    }

    fn restore(&mut self, r: &Request<'_>) -> Result<Value, EngineError> {
        let parts = frames(r.payload).ok_or(EngineError::Request("framing of the kept files"))?;
        let (bundle, deltas) = parts
            .split_first()
            .ok_or(EngineError::Request("no bundle"))?;
        let root = self.root(&r.header)?;
        root.restore(
            &r.header,
            bundle.to_vec(),
            deltas.iter().map(|d| d.to_vec()).collect(),
        )?;
        self.session = None;
        Ok(json!({"restored": true}))
    }

    fn kept(&mut self, header: &Value) -> Result<Vec<u8>, EngineError> {
        let root = self.root(header)?;
        let kept = root
            .kept
            .as_ref()
            .ok_or(EngineError::Request("no trust data kept"))?;
        let meta = json!({
            "sequence": kept.opened.sequence(),
            "digest": kept.digest,
            "seen": kept.seen,
            "synced_at": kept.synced_at,
            "full_sha256": kept.full_sha256,
        })
        .to_string();
        Ok(framed(
            [meta.as_bytes(), kept.bundle.as_slice()]
                .into_iter()
                .chain(kept.deltas.iter().map(Vec::as_slice)),
        ))
    }

    /// The trust data of every root synced, the app's own first (when synced).
    fn trusted(&self) -> Vec<&propusk_trust_list::Bundle> {
        self.roots
            .iter()
            .filter_map(|r| r.kept.as_ref().map(|k| &k.opened))
            .collect()
    }

    /// The trust data of the app's own root, if synced.
    fn home(&self) -> Option<&propusk_trust_list::Bundle> {
        self.roots.first()?.kept.as_ref().map(|k| &k.opened)
    }

    fn verify(&mut self, r: &Request<'_>) -> Result<Value, EngineError> {
        let (now, lang) = (r.now()?, r.lang());
        let texts = texts(&r.header)?;
        // The clock guard: the newest signed trust data of any root.
        let newest = self
            .roots
            .iter()
            .filter_map(|r| Some(r.kept.as_ref()?.seen))
            .max();
        propusk_verifier::clock_guard(newest, now)?;
        let session = match self.session.take() {
            Some(s) => s,
            None => self.session_now(now),
        };
        let session = self.session.insert(session);
        session.reset(now, lang);
        // The door's policy, chosen on the page (none: each credential on its own type).
        session
            .choose_policy(r.header["policy"].as_str())
            .map_err(|e| EngineError::Policy(e.to_string()))?;
        // A door's next scan (the camera's, one text): judged as `verify_next` judges it.
        if r.header["next"].as_bool() == Some(true)
            && let [text] = texts.as_slice()
        {
            return Ok(judge::verify_next(session, text.clone()));
        }
        Ok(judge::verify(
            session,
            &texts,
            r.header["queue"].as_bool() == Some(true),
        ))
    }

    fn session_now(&self, now: Timestamp) -> Session {
        let mut bundles = self.roots.iter().map(|r| {
            r.kept
                .as_ref()
                .map(|k| (k.opened.clone(), k.opened.content().issued_at))
        });
        let (home, made_at) = bundles.next().flatten().unzip();
        let others = bundles.flatten().map(|(b, _)| b).collect();
        Session::of(home, others, made_at, now)
    }
}

/// The id the wallet keeps `text` under, and the text to keep: an offline link's certificate
/// (its fragment), else the text itself.
fn identify(text: &str) -> Value {
    let kept = propusk_spec::Link::parse(text)
        .ok()
        .and_then(|l| l.credential)
        .unwrap_or_else(|| text.to_owned());
    match propusk_wallet::id_of(&kept) {
        Some(id) => json!({"id": id.to_string(), "text": kept}),
        None => json!({"id": null}),
    }
}

/// The header's `texts`.
fn texts(header: &Value) -> Result<Vec<String>, EngineError> {
    Ok(header["texts"]
        .as_array()
        .ok_or(EngineError::Request("texts: a list"))?
        .iter()
        .map(|t| t.as_str().unwrap_or_default().to_owned())
        .collect())
}

/// An operation's answer.
enum Answer {
    Json(Value),
    Bytes(Vec<u8>),
}
