//! Trust data over HTTP from the issuer's server: a conditional request for the signed index,
//! then the delta from the sequence in force or the full bundle, with retries and a size cap.

use propusk_spec::Timestamp;
use propusk_trust_list::{INDEX_FILE, Index, MAX_BUNDLE_LEN};

use crate::error::VerifierError;
use crate::present::SyncOutcome;
use crate::store::Store;

impl Store {
    /// Fetches trust data from the issuer's server at `base` (its `/bundle/` files) and takes it
    /// into force like [`Store::sync_from_dir`]: a conditional request for the index (a verifier
    /// that is up to date pays one tiny 304), then the delta from the sequence in force, or the
    /// full bundle. Transport failures are retried three times with growing pauses; when the
    /// network stays down the trust data in force is kept and the error says so.
    pub fn sync_from_url(
        &mut self,
        base: &str,
        now: Timestamp,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<SyncOutcome, VerifierError> {
        let base = base.trim_end_matches('/');
        let agent = agent();
        // Servers behind one name publish a moment apart: a file the index named that is gone
        // by the time it is asked for (a newer publication took its place) means a fresh index
        // is there; it is read again, a few times, before this counts as a failure.
        let mut attempt = 0;
        loop {
            match self.sync_once(&agent, base, now, attempt > 0, progress) {
                Err(VerifierError::Gone(_)) if attempt < GONE_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(200 * attempt));
                }
                Err(VerifierError::Gone(url)) => {
                    return Err(VerifierError::Network(format!("{url} answered 404")));
                }
                other => return other,
            }
        }
    }

    /// One index and what it names; `fresh` skips the conditional request.
    fn sync_once(
        &mut self,
        agent: &ureq::Agent,
        base: &str,
        now: Timestamp,
        fresh: bool,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<SyncOutcome, VerifierError> {
        let cached = self.http_cache()?;
        let etag = cached
            .filter(|(url, _)| url == base && !fresh)
            .map(|(_, etag)| etag);
        let current = self.meta()?;
        let (status, etag_now, index_bytes) = fetch(
            agent,
            &format!("{base}/bundle/{INDEX_FILE}"),
            etag.as_deref().filter(|_| current.is_some()),
            1 << 20,
            &mut |_, _| {},
        )?;
        if status == 304
            && let Some(current) = current
        {
            return Ok(SyncOutcome::UpToDate(current.sequence));
        }
        if status != 200 {
            return Err(VerifierError::Network(format!(
                "{base}/bundle/{INDEX_FILE} answered {status}"
            )));
        }
        let index = Index::open(&index_bytes, self.root())?;
        let outcome = self.take(index, now, &mut |name| {
            let url = format!("{base}/bundle/{name}");
            let (status, _, bytes) = fetch(agent, &url, None, MAX_BUNDLE_LEN as u64, progress)?;
            match status {
                200 => Ok(bytes),
                404 => Err(VerifierError::Gone(url)),
                other => Err(VerifierError::Network(format!("{url} answered {other}"))),
            }
        })?;
        if let Some(etag) = etag_now {
            self.set_http_cache(base, &etag)?;
        }
        Ok(outcome)
    }
}

/// How many times an index is read again when a file it named is gone.
const GONE_RETRIES: u64 = 3;

/// The HTTP client for trust data: 5 s to connect, 2 minutes in all, statuses as answers (not
/// errors), so that a 304 or a 404 is read as such.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(5)))
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// One GET with up to three retries on transport errors and 5xx answers (0.5 s, 1 s, 2 s
/// apart); returns the status, the ETag and the body (at most `limit` bytes). `progress` hears
/// the bytes read so far and the length announced.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    if_none_match: Option<&str>,
    limit: u64,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<(u16, Option<String>, Vec<u8>), VerifierError> {
    let mut pause = std::time::Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 0..4 {
        if attempt > 0 {
            std::thread::sleep(pause);
            pause *= 2;
        }
        let mut request = agent.get(url);
        if let Some(etag) = if_none_match {
            request = request.header("If-None-Match", etag);
        }
        match request.call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                if status >= 500 {
                    last = format!("{url} answered {status}");
                    continue;
                }
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = if status == 200 {
                    let total = response
                        .headers()
                        .get("content-length")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok());
                    if total.is_some_and(|t| t > limit) {
                        return Err(VerifierError::Network(format!(
                            "{url}: larger than {limit} bytes"
                        )));
                    }
                    let mut reader = response.body_mut().with_config().limit(limit).reader();
                    let mut body = Vec::with_capacity(total.unwrap_or(0).min(limit) as usize);
                    let mut chunk = vec![0u8; 64 << 10];
                    loop {
                        let n = std::io::Read::read(&mut reader, &mut chunk)
                            .map_err(|e| VerifierError::Network(format!("{url}: {e}")))?;
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&chunk[..n]);
                        progress(body.len() as u64, total);
                    }
                    body
                } else {
                    Vec::new()
                };
                return Ok((status, etag, body));
            }
            Err(e) => last = format!("{url}: {e}"),
        }
    }
    Err(VerifierError::Network(last))
}
