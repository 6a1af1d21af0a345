//! Trust data as static files that any web server, CDN or USB stick can carry:
//! `index.cbor` (small, root-signed, names the newest bundle) and `bundle-{sequence}-{hash}.cbor`
//! (the root-signed bundle, its name unique to its content so it can be cached forever).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use propusk_spec::{KeyId, hex};

use crate::bundle::{BundleContent, Index, IndexDelta, sha256_hex, sign_bundle, sign_index};
use crate::delta::Delta;
use crate::error::TrustError;

/// The index's file name.
pub const INDEX_FILE: &str = "index.cbor";

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Signing or encoding failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Temporary files older than this in a directory being written are a killed writer's.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(600);

/// Writes `bytes` to `path` through a temporary file of this writer's own (several writers may
/// write one directory at once) and a rename, so a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), std::io::Error> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let tmp = path.with_file_name(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// What [`write_dir`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The full bundle's path.
    pub bundle: PathBuf,
    /// The index, naming the bundle and every delta written.
    pub index: Index,
}

/// One publication's signed files in memory, ready to be kept or served: the bundle, a delta
/// from each earlier bundle a delta can express, and the signed index, last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The index, naming the bundle and every delta.
    pub index: Index,
    /// File names and bytes; [`INDEX_FILE`] is the last.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Signs the bundle of `content`, a delta from each of the `previous` bundles that a delta can
/// express, and the index, with the root key (through `sign`).
pub fn sign_publication(
    content: &BundleContent,
    previous: &[BundleContent],
    root_key_id: &KeyId,
    sign: &dyn Fn(&[u8]) -> [u8; 64],
) -> Result<Publication, TrustError> {
    let bytes = sign_bundle(content, root_key_id, sign)?;
    let digest = sha256_hex(&bytes);
    let name = format!("bundle-{:010}-{}.cbor", content.sequence, &digest[..16]);
    let mut files = vec![(name.clone(), bytes)];
    let mut deltas = Vec::new();
    for old in previous {
        let Some(delta) = Delta::between(old, content)? else {
            continue;
        };
        let bytes = delta.sign(root_key_id, sign)?;
        let sha256 = sha256_hex(&bytes);
        let file = format!(
            "delta-{:010}-{:010}-{}.cbor",
            old.sequence,
            content.sequence,
            &sha256[..16]
        );
        files.push((file.clone(), bytes));
        deltas.push(IndexDelta {
            from: old.sequence,
            file,
            sha256,
        });
    }
    let index = Index {
        jurisdiction: content.jurisdiction.clone(),
        sequence: content.sequence,
        issued_at: content.issued_at,
        full: name,
        full_sha256: digest,
        deltas,
    };
    files.push((
        INDEX_FILE.to_owned(),
        sign_index(&index, root_key_id, sign)?,
    ));
    Ok(Publication { index, files })
}

/// Writes a publication's files into `dir`, each through a temporary file and a rename, the index
/// last, so a reader sees the old or the new state whole; temporary files a killed writer left
/// behind (older than ten minutes) are removed first, and an index of a newer publication
/// already there stays.
pub fn write_publication(dir: &Path, publication: &Publication) -> Result<Written, PublishError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for entry in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_TMP));
        if stale && entry.path().extension().is_some_and(|e| e == "tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    // Two publishers writing one directory take turns (an advisory lock on a file of its own),
    // and an older index must not replace a newer one (its bundle and deltas are still written:
    // they are content-addressed).
    let lock_path = dir.join(".publish.lock");
    let lock = std::fs::File::create(&lock_path).map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    let on_disk = std::fs::read(dir.join(INDEX_FILE))
        .ok()
        .and_then(|bytes| Index::peek_sequence(&bytes));
    for (name, bytes) in &publication.files {
        if name == INDEX_FILE && on_disk.is_some_and(|seq| seq > publication.index.sequence) {
            continue;
        }
        let path = dir.join(name);
        write_atomically(&path, bytes).map_err(io(&path))?;
    }
    Ok(Written {
        bundle: dir.join(&publication.index.full),
        index: publication.index.clone(),
    })
}

/// Signs the bundle, a delta from each of the `previous` bundles that a delta can express, and
/// the index with the root key, and writes them into `dir` (see [`sign_publication`] and
/// [`write_publication`]).
pub fn write_dir(
    dir: &Path,
    content: &BundleContent,
    previous: &[BundleContent],
    root_key_id: &KeyId,
    sign: &dyn Fn(&[u8]) -> [u8; 64],
) -> Result<Written, PublishError> {
    write_publication(
        dir,
        &sign_publication(content, previous, root_key_id, sign)?,
    )
}

/// A public key as text: base64url without padding of its 32 bytes (as `key list --json` and
/// `root.pub` write it).
pub fn format_public_key(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Reads a public key written by [`format_public_key`] (or as 64 hex digits); surrounding white
/// space is ignored.
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let text = text.trim();
    let bytes = match text.len() {
        64 => hex::decode(text)?,
        _ => URL_SAFE_NO_PAD.decode(text).ok()?,
    };
    propusk_spec::strict::verifying_key(&bytes.try_into().ok()?)
}

/// Why a published directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// The index or a file it names was refused.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Reads and verifies the index of a published directory (a USB stick, a mirror).
pub fn read_index(dir: &Path, root: &VerifyingKey) -> Result<Index, DirError> {
    let path = dir.join(INDEX_FILE);
    let bytes = std::fs::read(&path).map_err(|source| DirError::Io { path, source })?;
    Ok(Index::open(&bytes, root)?)
}

/// Reads a file that an index names, refusing any name that leaves the directory.
pub fn read_named(dir: &Path, name: &str) -> Result<Vec<u8>, DirError> {
    let file = Path::new(name);
    if file.components().count() != 1 || file.file_name().is_none() {
        return Err(TrustError::Malformed("the index names a file outside its directory").into());
    }
    let path = dir.join(file);
    std::fs::read(&path).map_err(|source| DirError::Io { path, source })
}
