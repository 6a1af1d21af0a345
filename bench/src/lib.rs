//! `propusk bench`: figures for the wire format, the verifier and the EU comparison, measured on
//! this machine. Kept out of the shipped command line's source; the binary calls [`run`].

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer, SigningKey};
use propusk_spec::{CredentialId, CredentialType, Encoder, KeyId, compare, decode, examples};

mod trust;
use trust::bundle_content;

/// Exit code: every figure was measured.
const EXIT_OK: u8 = 0;
/// Exit code: a benchmark's own data did not check out.
const EXIT_INVALID: u8 = 1;

/// Arguments of `propusk bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Operations per timed run; each figure is the median of five runs.
    #[arg(long, default_value_t = 2000)]
    pub iterations: u32,
    /// Revoked credentials in the verifier's trust data.
    #[arg(long, default_value_t = 1_000_000)]
    pub revocations: u32,
}

/// Codes piped through `propusk verify -` for the queue figure.
pub const QUEUE_CODES: usize = 6_000;

/// The QR version (1–40) that holds `text` at error correction Q, or 0 if none does.
pub fn qr_version(text: &str) -> u32 {
    propusk_qr::version(text).unwrap_or(0)
}

/// Median time per operation of `f`, over five runs of `n` calls.
fn per_op(n: u32, mut f: impl FnMut()) -> Duration {
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed() / n.max(1)
        })
        .collect();
    runs.sort();
    runs[2]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Runs `propusk bench`.
pub fn run(args: &Args) -> u8 {
    let n = args.iterations.max(1);
    let key = SigningKey::from_bytes(&[0x2A; 32]);
    let key_id = KeyId::new(&[0x5E, 0x1F]).unwrap_or_else(|| unreachable!("2 bytes"));
    let trusted = (key_id.clone(), key.verifying_key());
    let id = CredentialId::from_bytes([
        0x8F, 0x1C, 0x62, 0xD9, 0x07, 0x3E, 0xA4, 0x55, 0xC1, 0x90, 0x2B, 0x7E,
    ]);
    let mut encoder = Encoder;

    println!(
        "Propusk wire format, {n} operations per run, median of 5 runs (release build for real figures)"
    );
    println!();
    println!(
        "{:<12} {:>6} {:>5} {:>8} {:>7} {:>5}  {:>10} {:>10} {:>10} {:>10} {:>7}",
        "type",
        "chars",
        "QR-Q",
        "EU DCC",
        "EU QR",
        "ratio",
        "encode",
        "decode",
        "verify",
        "bare",
        "v/bare"
    );
    for kind in CredentialType::ALL {
        let credential = examples::credential(kind, id);
        let sign = |d: &[u8]| key.sign(d).to_bytes();
        let Ok(text) = encoder.encode(&credential, &key_id, sign) else {
            eprintln!(
                "propusk: the example {} credential does not encode",
                kind.as_str()
            );
            return EXIT_INVALID;
        };
        let Ok(unverified) = decode(&text) else {
            eprintln!(
                "propusk: the example {} credential does not decode",
                kind.as_str()
            );
            return EXIT_INVALID;
        };
        if unverified.verify(&trusted).is_err() {
            eprintln!(
                "propusk: the example {} credential does not verify",
                kind.as_str()
            );
            return EXIT_INVALID;
        }
        let encode_t = per_op(n, || {
            black_box(
                encoder
                    .encode(black_box(&credential), &key_id, |d| key.sign(d).to_bytes())
                    .ok(),
            );
        });
        let decode_t = per_op(n, || {
            black_box(decode(black_box(&text)).ok());
        });
        let verify_t = per_op(n, || {
            black_box(unverified.verify(black_box(&trusted)).ok());
        });
        let message = unverified.to_be_signed();
        let signature = Signature::from_bytes(unverified.signature());
        let vk = key.verifying_key();
        let bare_t = per_op(n, || {
            black_box(vk.verify_strict(black_box(&message), &signature).ok());
        });
        let (eu_len, eu_qr, ratio) = match compare::eu_dcc_text(&credential, &examples::holder()) {
            Some(eu) => (
                eu.len().to_string(),
                qr_version(&eu).to_string(),
                format!("{:.2}", text.len() as f64 / eu.len() as f64),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:<12} {:>6} {:>5} {:>8} {:>7} {:>5}  {:>10} {:>10} {:>10} {:>10} {:>6.2}x",
            kind.as_str(),
            text.len(),
            qr_version(&text),
            eu_len,
            eu_qr,
            ratio,
            micros(encode_t),
            micros(decode_t),
            micros(verify_t),
            micros(bare_t),
            verify_t.as_secs_f64() / bare_t.as_secs_f64()
        );
    }
    println!();
    println!(
        "chars: length of the credential text (PR2: + base45); QR-Q: QR version at error correction Q"
    );
    println!(
        "EU DCC: the same content as an EU Digital COVID Certificate (HC1:), ratio = chars / EU DCC"
    );
    println!("encode: sign + CBOR + base45; decode: text to unverified credential;");
    println!(
        "verify: signature check of a decoded credential; bare: ed25519-dalek verify_strict alone"
    );
    println!();
    verifier(n, args.revocations)
}

/// The verifier's figures: the revocation set, the whole offline check, image decoding.
fn verifier(n: u32, revocations: u32) -> u8 {
    use propusk_trust_list::{
        Bundle, RevocationSet, check, check_many, revocation_hash, signing_key_id_of,
    };

    let signer = SigningKey::from_bytes(&[0x2B; 32]);
    let kid = signing_key_id_of(&signer.verifying_key());
    let credential = examples::credential(
        CredentialType::Vaccination,
        CredentialId::from_bytes([7; 12]),
    );
    let Ok(text) = Encoder.encode(&credential, &kid, |d| signer.sign(d).to_bytes()) else {
        return EXIT_INVALID;
    };
    let at = credential.issued_at.plus_seconds(86_400);
    let id_of = |i: u32| {
        let mut b = [0xA5u8; 12];
        b[..4].copy_from_slice(&i.to_be_bytes());
        CredentialId::from_bytes(b)
    };
    let start = Instant::now();
    let set = RevocationSet::build(
        (0..revocations).map(|i| (id_of(i), credential.expires_at)),
        vec![],
        at,
    );
    let build = start.elapsed();
    let bits: u64 = set.partitions.values().map(|p| p.size_bits()).sum();
    let per_entry = bits as f64 / f64::from(revocations.max(1));
    let bound = 64.0 - f64::from(revocations.max(1)).log2() + std::f64::consts::LOG2_E;
    let Some(partition) = set.partitions.values().next() else {
        return EXIT_INVALID;
    };
    let probes: Vec<u64> = (0..1024u32)
        .map(|i| revocation_hash(&id_of(i * 7919 % revocations.max(1))))
        .collect();
    let misses: Vec<u64> = (0..1024u32)
        .map(|i| revocation_hash(&id_of(revocations + i)))
        .collect();
    let mut k = 0usize;
    let hit_t = per_op(n * 10, || {
        k = (k + 1) & 1023;
        black_box(partition.contains(black_box(probes[k])).ok());
    });
    let miss_t = per_op(n * 10, || {
        k = (k + 1) & 1023;
        black_box(partition.contains(black_box(misses[k])).ok());
    });
    println!(
        "Revocation set: {revocations} entries, {:.1} MB, {per_entry:.2} bits per entry ({:.3}x the bound {bound:.2}), built in {:.2} s",
        bits as f64 / 8e6,
        per_entry / bound,
        build.as_secs_f64()
    );
    println!(
        "  lookup: {} (member), {} (not a member)",
        micros(hit_t),
        micros(miss_t)
    );

    let content = bundle_content(&signer, at, set);
    let Ok(bundle) = Bundle::from_content(content) else {
        return EXIT_INVALID;
    };
    let report = check(Some(&bundle), &text, at);
    if report.verdict != propusk_trust_list::Verdict::Valid {
        eprintln!(
            "propusk: the benchmark credential is {:?} ({:?})",
            report.verdict, report.reason
        );
        return EXIT_INVALID;
    }
    let whole = per_op(n, || {
        black_box(check(Some(&bundle), black_box(&text), at));
    });
    let (Ok(u), vk) = (decode(&text), signer.verifying_key()) else {
        return EXIT_INVALID;
    };
    let (message, signature) = (u.to_be_signed(), Signature::from_bytes(u.signature()));
    let bare = per_op(n, || {
        black_box(vk.verify_strict(black_box(&message), &signature).ok());
    });
    println!(
        "Whole offline check (decode, signature, key, expiry, revocation, rules), one credential:"
    );
    println!(
        "  {} per check = {:.0} per second per core; bare verify_strict {} = {:.0} per second; ratio {:.2}x",
        micros(whole),
        1.0 / whole.as_secs_f64(),
        micros(bare),
        1.0 / bare.as_secs_f64(),
        bare.as_secs_f64() / whole.as_secs_f64()
    );

    // The same check as a door makes it (the verifier's session, words and all), without and
    // with a door policy.
    let session = propusk_verifier::Session::of(Some(bundle.clone()), vec![], None, at);
    let one = [text.clone()];
    let plain = per_op(n, || {
        black_box(session.verify(black_box(&one)));
    });
    let Ok(by_policy) = propusk_verifier::Session::of(Some(bundle.clone()), vec![], None, at)
        .with_policy("qr-regime")
    else {
        return EXIT_INVALID;
    };
    if by_policy.verify(&one).first().map(|r| r.verdict) != Some(propusk_trust_list::Verdict::Valid)
    {
        return EXIT_INVALID;
    }
    let policed = per_op(n, || {
        black_box(by_policy.verify(black_box(&one)));
    });
    println!(
        "  as a door checks it: {} per credential; with the door policy qr-regime {} ({:.2}x)",
        micros(plain),
        micros(policed),
        policed.as_secs_f64() / plain.as_secs_f64()
    );

    // A queue of 64 different codes, checked together with one batch signature verification.
    let queue: Vec<String> = (0..64u8)
        .filter_map(|i| {
            let c = examples::credential(
                CredentialType::Vaccination,
                CredentialId::from_bytes([i; 12]),
            );
            Encoder.encode(&c, &kid, |d| signer.sign(d).to_bytes()).ok()
        })
        .collect();
    let refs: Vec<&str> = queue.iter().map(String::as_str).collect();
    let all_valid = check_many(Some(&bundle), &refs, at)
        .iter()
        .all(|r| r.verdict == propusk_trust_list::Verdict::Valid);
    let batch = per_op((n / 64).max(3), || {
        black_box(check_many(Some(&bundle), black_box(&refs), at));
    }) / 64;
    println!(
        "  batched, 64 codes at once: {} per check = {:.0} per second per core; ratio {:.2}x{}",
        micros(batch),
        1.0 / batch.as_secs_f64(),
        bare.as_secs_f64() / batch.as_secs_f64(),
        if all_valid { "" } else { " (NOT ALL VALID)" }
    );

    queue_figure(&signer, at, bare);
    eu_figures(n, bare);

    match propusk_qr::render_png(&text, 5) {
        Ok(png) => {
            let image_t = per_op((n / 100).max(3), || {
                black_box(propusk_qr::read_qr(black_box(&png)).ok());
            });
            println!(
                "QR image decode (PNG, 5 px per module, {} bytes): {:.2} ms per image",
                png.len(),
                image_t.as_secs_f64() * 1e3
            );
        }
        Err(e) => eprintln!("propusk: {e}"),
    }
    let frame = empty_frame(640, 480);
    let frame_t = per_op((n / 100).max(3), || {
        black_box(propusk_qr::read_qr_frame(black_box(frame.clone()), 640, 480).ok());
    });
    let still_t = per_op((n / 100).max(3), || {
        black_box(propusk_qr::read_qr_luma(black_box(frame.clone()), 640, 480).ok());
    });
    println!(
        "640x480 with no code, every step tried: {:.2} ms as a camera frame, {:.2} ms as a still image",
        frame_t.as_secs_f64() * 1e3,
        still_t.as_secs_f64() * 1e3
    );
    EXIT_OK
}

/// A camera's view of a desk with no code on it: a gradient of light with a fine pseudo-random
/// texture (a fixed sequence, so that every run measures the same frame).
fn empty_frame(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..width * height)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let light = 60 + (i % width) * 120 / width + (i / width) * 40 / height;
            (light + (state % 48)) as u8
        })
        .collect()
}

/// ES256 and PS256 verification of real EU certificates (from `../shared/vectors`, when it is
/// there) next to EdDSA's bare verify_strict.
fn eu_figures(n: u32, eddsa: Duration) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/eu-dcc");
    let load = |path: &str| -> Option<(propusk_eudcc::Hc1, propusk_eudcc::SignerCertificate)> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(path)).ok()?).ok()?;
        let hc1 = propusk_eudcc::decode(v["PREFIX"].as_str()?).ok()?;
        let cert = propusk_eudcc::SignerCertificate::parse(
            v["TESTCTX"]["CERTIFICATE"].as_str()?.as_bytes(),
        )
        .ok()?;
        Some((hc1, cert))
    };
    println!("EU Digital COVID Certificates (signature check of a decoded certificate, one core):");
    for (name, path) in [
        ("ES256", "DE/2DCode/raw/1.json"),
        ("PS256", "CH/2DCode/raw/1.json"),
    ] {
        let Some((hc1, cert)) = load(path) else {
            println!("  {name}: the EU vectors are not in ../shared/vectors here");
            continue;
        };
        let trusted = [cert];
        if propusk_eudcc::verify(&hc1, &trusted).is_err() {
            println!("  {name}: the vector does not verify");
            continue;
        }
        let t = per_op(n.div_ceil(4).max(3), || {
            black_box(propusk_eudcc::verify(black_box(&hc1), &trusted).ok());
        });
        println!(
            "  {name}: {} = {:.0} per second per core ({:.1}x EdDSA verify_strict at {})",
            micros(t),
            1.0 / t.as_secs_f64(),
            t.as_secs_f64() / eddsa.as_secs_f64(),
            micros(eddsa)
        );
    }
}

/// The stdin queue as a script uses it: [`QUEUE_CODES`] different credentials piped through the
/// real `propusk verify --json -` (this very binary), process start and store load included,
/// against bare `verify_strict` one by one.
fn queue_figure(signer: &SigningKey, at: propusk_spec::Timestamp, bare: Duration) {
    match run_queue(signer, at) {
        Ok(whole) => {
            let per = whole / QUEUE_CODES as u32;
            println!(
                "  stdin queue, `propusk verify --json -` over {QUEUE_CODES} codes (process and store \
                 load included): {} per code = {:.0} per second; ratio {:.2}x bare verify_strict",
                micros(per),
                1.0 / per.as_secs_f64(),
                bare.as_secs_f64() / per.as_secs_f64()
            );
        }
        Err(why) => println!("  stdin queue: not measured ({why})"),
    }
}

fn run_queue(signer: &SigningKey, at: propusk_spec::Timestamp) -> Result<Duration, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use propusk_trust_list::{RevocationSet, key_id_of, signing_key_id_of, write_dir};

    let dir = std::env::temp_dir().join(format!("propusk-bench-queue-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = SigningKey::from_bytes(&[0x3C; 32]);
    let kid = signing_key_id_of(&signer.verifying_key());
    let content = bundle_content(signer, at, RevocationSet::default());
    let published = dir.join("usb");
    let store_dir = dir.join("store");
    write_dir(
        &published,
        &content,
        &[],
        &key_id_of(&root.verifying_key()),
        &|d| root.sign(d).to_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut store = propusk_verifier::Store::init(&store_dir, root.verifying_key(), at)
        .map_err(|e| e.to_string())?;
    store
        .sync_from_dir(&published, at)
        .map_err(|e| e.to_string())?;
    let mut encoder = Encoder;
    let mut input = String::new();
    for i in 0..QUEUE_CODES as u32 {
        let mut id = [0x5Au8; 12];
        id[..4].copy_from_slice(&i.to_be_bytes());
        let c = examples::credential(CredentialType::Vaccination, CredentialId::from_bytes(id));
        let text = encoder
            .encode(&c, &kid, |d| signer.sign(d).to_bytes())
            .map_err(|e| e.to_string())?;
        input.push_str(&text);
        input.push('\n');
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut child = Command::new(&exe)
            .args(["verify", "--json", "--at", &at.to_string(), "--store"])
            .arg(&store_dir)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        let feed = input.clone();
        let writer = std::thread::spawn(move || stdin.write_all(feed.as_bytes()));
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let elapsed = start.elapsed();
        let _ = writer.join();
        let answered = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("\"verdict\":\"valid\""))
            .count();
        if answered != QUEUE_CODES {
            return Err(format!("{answered} of {QUEUE_CODES} answered valid"));
        }
        runs.push(elapsed);
    }
    let _ = std::fs::remove_dir_all(&dir);
    runs.sort();
    Ok(runs[2])
}
