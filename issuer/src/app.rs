//! The web app (verifier and wallet, `web/app/`): its files as `propusk serve` serves them under
//! `/app/` and as `propusk app export` writes them for any web server or CDN, with the issuer's
//! `config.json` (the roots it pins, where its trust data is) and a service worker whose cache
//! name is the digest of everything it caches (so a new build or a new config replaces the old).

use serde_json::json;

use crate::{Issuer, IssuerError};

/// One file of the app.
#[derive(Clone, Debug)]
pub struct AppFile {
    /// Its name under `/app/`.
    pub name: &'static str,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub kind: &'static str,
}

const FILES: [(&str, &[u8], &str); 12] = [
    (
        "index.html",
        include_bytes!("../../web/app/index.html"),
        "text/html; charset=utf-8",
    ),
    (
        "app.js",
        include_bytes!("../../web/app/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "engine.js",
        include_bytes!("../../web/app/engine.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "reader.js",
        include_bytes!("../../web/app/reader.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "app.css",
        include_bytes!("../../web/app/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "engine.wasm",
        include_bytes!("../../web/app/engine.wasm"),
        "application/wasm",
    ),
    (
        "pdf.wasm",
        include_bytes!("../../web/app/pdf.wasm"),
        "application/wasm",
    ),
    (
        "manifest.webmanifest",
        include_bytes!("../../web/app/manifest.webmanifest"),
        "application/manifest+json",
    ),
    (
        "icon.svg",
        include_bytes!("../../web/app/icon.svg"),
        "image/svg+xml",
    ),
    (
        "icon-192.png",
        include_bytes!("../../web/app/icon-192.png"),
        "image/png",
    ),
    (
        "icon-512.png",
        include_bytes!("../../web/app/icon-512.png"),
        "image/png",
    ),
    (
        "sw.js",
        include_bytes!("../../web/app/sw.js"),
        "text/javascript; charset=utf-8",
    ),
];

/// Another issuer's root the app trusts besides its own (a neighbouring country's), as
/// `verifier trust add` trusts one.
#[derive(Clone, Debug)]
pub struct OtherRoot {
    /// Its root public key.
    pub key: ed25519_dalek::VerifyingKey,
    /// A base URL whose `/bundle/` holds its published trust data.
    pub url: String,
}

/// The app's configuration for this issuer: its root (pinned, as `verifier init --root`
/// pins it; its rules decide), its name, and where its trust data is (`trust_url`: a base URL
/// whose `/bundle/` holds the published files; empty for the server that serves the app); then
/// the `others` it trusts too.
pub fn config(
    issuer: &Issuer,
    trust_url: &str,
    others: &[OtherRoot],
) -> Result<Vec<u8>, IssuerError> {
    let root = issuer.root_key()?.public_key;
    let settings = issuer.settings();
    let mut roots = vec![json!({
        "key": propusk_spec::hex::encode(root.as_bytes()),
        "name": settings.name,
        "country": settings.country,
        "url": trust_url.trim_end_matches('/'),
    })];
    roots.extend(others.iter().map(|o| {
        json!({
            "key": propusk_spec::hex::encode(o.key.as_bytes()),
            "name": propusk_trust_list::key_id_of(&o.key).to_string(),
            "url": o.url.trim_end_matches('/'),
        })
    }));
    Ok(json!({ "roots": roots }).to_string().into_bytes())
}

/// The content security policy of the app's pages: its own files only, WebAssembly compiled
/// from them, the camera, and trust data from `connect` (origins besides its own).
pub fn content_security_policy(connect: &[String]) -> String {
    let mut sources = vec!["'self'".to_owned()];
    sources.extend(connect.iter().cloned());
    format!(
        "default-src 'none'; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
         img-src 'self' blob: data:; connect-src {}; worker-src 'self'; manifest-src 'self'; \
         media-src 'self' blob: mediastream:; base-uri 'none'; form-action 'none'",
        sources.join(" ")
    )
}

/// Every file of the app with `config` (see [`config`]) among them.
pub fn files(config: Vec<u8>) -> Vec<AppFile> {
    files_with(config, None)
}

/// The app as `propusk app export` writes it for another web server: [`files`], with the
/// content security policy in its page (a `<meta>`: the server need not send it) and in a
/// `_headers` file (the form static hosts such as Netlify and Cloudflare Pages read, with what a
/// `<meta>` cannot say: no framing). `connect`: the origins of the trust data it fetches.
pub fn export_files(config: Vec<u8>, connect: &[String]) -> Vec<AppFile> {
    let policy = content_security_policy(connect);
    let mut files = files_with(config, Some(&policy));
    files.push(AppFile {
        name: "_headers",
        bytes: format!(
            "/*\n  Content-Security-Policy: {policy}; frame-ancestors 'none'\n  \
             X-Content-Type-Options: nosniff\n  Referrer-Policy: no-referrer\n  \
             X-Frame-Options: DENY\n"
        )
        .into_bytes(),
        kind: "text/plain; charset=utf-8",
    });
    files
}

fn files_with(config: Vec<u8>, policy: Option<&str>) -> Vec<AppFile> {
    let mut files: Vec<AppFile> = FILES
        .iter()
        .map(|&(name, bytes, kind)| AppFile {
            name,
            bytes: bytes.to_vec(),
            kind,
        })
        .collect();
    if let Some(policy) = policy {
        for f in files.iter_mut().filter(|f| f.name == "index.html") {
            let meta = format!(
                "<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" \
                 content=\"{policy}\">"
            );
            let page =
                String::from_utf8_lossy(&f.bytes).replacen("<meta charset=\"utf-8\">", &meta, 1);
            f.bytes = page.into_bytes();
        }
    }
    files.push(AppFile {
        name: "config.json",
        bytes: config,
        kind: "application/json",
    });
    // The service worker's cache is named by the digest of all it caches.
    let version = {
        use sha2::Digest;
        let mut digest = sha2::Sha256::new();
        for f in files.iter().filter(|f| f.name != "sw.js") {
            digest.update(f.name.as_bytes());
            digest.update(&f.bytes);
        }
        propusk_spec::hex::encode(&digest.finalize()[..8])
    };
    for f in files.iter_mut().filter(|f| f.name == "sw.js") {
        let text = String::from_utf8_lossy(&f.bytes).replace("__VERSION__", &version);
        f.bytes = text.into_bytes();
    }
    files
}

/// `bytes` gzipped (best compression: done once, when the server starts).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}
