//! `propusk demo`: the whole story on the embedded default, in a fresh directory, step by step.
//! It exits 0 only when every outcome is what the story expects.

use std::path::{Path, PathBuf};

use propusk_issuer::{Issuer, Request};
use propusk_spec::Timestamp;
use propusk_trust_list::{Reason, Verdict, parse_public_key};
use propusk_verifier::{Session, Store, to_text};
use propusk_wallet::Wallet;

/// Arguments of `propusk demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where to keep the demo's files (default: a fresh temporary directory, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

struct Story {
    failures: usize,
}

impl Story {
    fn step(&mut self, title: &str) {
        println!("\n== {title}");
    }

    fn check(&mut self, what: &str, ok: bool, detail: impl std::fmt::Display) {
        if ok {
            println!("   ✓ {what}");
        } else {
            self.failures += 1;
            println!("   ✗ {what}: {detail}");
        }
    }
}

fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
}

const PASSPHRASE: &str = "demo passphrase (use PROPUSK_PASSPHRASE for real keys)";

/// Runs the demo; returns the exit code.
pub fn run(args: &DemoArgs) -> u8 {
    let temp;
    let dir: &Path = match &args.dir {
        Some(d) => d,
        None => {
            temp = std::env::temp_dir().join(format!(
                "propusk-demo-{}-{}",
                std::process::id(),
                now().unix()
            ));
            &temp
        }
    };
    let mut story = Story { failures: 0 };
    if let Err(e) = tell(dir, &mut story) {
        story.check("the story ran to its end", false, e);
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
    println!();
    if story.failures == 0 {
        println!("every outcome was as expected");
        0
    } else {
        println!("{} outcome(s) were not as expected", story.failures);
        1
    }
}

fn tell(dir: &Path, story: &mut Story) -> Result<(), Box<dyn std::error::Error>> {
    let (iss, usb, store_dir, wallet_dir) = (
        dir.join("issuer"),
        dir.join("usb"),
        dir.join("verifier"),
        dir.join("wallet"),
    );
    let t0 = now().plus_seconds(-3 * 86_400);

    story.step("An issuer: a root key for trust bundles and a signing key for credentials");
    let mut issuer = Issuer::init(
        &iss,
        "Минздрав России",
        "RU",
        Some("https://gosuslugi.example"),
        "Europe/Moscow",
        PASSPHRASE,
        t0,
    )?;
    for key in issuer.keys()? {
        println!(
            "   {} key {} ({})",
            key.role,
            key.key_id,
            key.status.as_str()
        );
    }
    let first_key = issuer
        .keys()?
        .into_iter()
        .find(|k| k.role == propusk_issuer::KeyRole::Signing)
        .map(|k| k.key_id.to_string())
        .unwrap_or_default();

    story.step("One credential of each type, written as QR PNGs and read back from their pixels");
    let now = now();
    let mut texts = Vec::new();
    for (kind, json) in crate::examples::issuance(now) {
        let issued = issuer.issue(&Request::from_json(&json)?, now.plus_seconds(-60))?;
        let png = dir.join(format!("{kind}.png"));
        std::fs::write(&png, propusk_qr::render_png(&issued.credential, 4)?)?;
        let read = propusk_qr::read_qr_file(&png)?;
        println!(
            "   {kind:11} {}  {} chars, QR version {}  valid until {}",
            issued.id,
            issued.credential.len(),
            propusk_qr::version(&issued.credential)?,
            moscow().time(issued.expires_at)
        );
        story.check(
            &format!("the {kind} QR reads back from its pixels"),
            read == issued.credential,
            "the image read differently",
        );
        texts.push((kind, issued, png));
    }

    story.step("The issuer publishes its trust bundle (trust list, revocations, rules)");
    let published = issuer.publish(&usb, now)?;
    println!(
        "   sequence {} written to {}",
        published.sequence,
        usb.display()
    );

    story.step("A verifier pins the root key, syncs from the bundle and checks each code offline");
    let root = parse_public_key(&std::fs::read_to_string(
        iss.join(propusk_issuer::ROOT_PUB_FILE),
    )?)
    .ok_or("root.pub")?;
    let mut store = Store::init(&store_dir, root, now)?;
    store.sync_from_dir(&usb, now)?;
    let check = |store: &Store,
                 text: &str,
                 at: Timestamp|
     -> Result<propusk_trust_list::Report, Box<dyn std::error::Error>> {
        Ok(Session::load(store, at)?
            .verify(&[text.to_owned()])
            .remove(0))
    };
    for (kind, issued, _) in &texts {
        let report = check(&store, &issued.credential, now)?;
        let session = Session::load(&store, now)?;
        for line in to_text(&report, session.trust(), session.locale()).lines() {
            println!("   {line}");
        }
        story.check(
            &format!("the {kind} is valid"),
            report.verdict == Verdict::Valid,
            report.reason.map_or("-", Reason::code),
        );
    }

    story.step("The holder's wallet adds them from the images and picks the one to show");
    let mut wallet = Wallet::open(&wallet_dir)?;
    wallet.set_trust(&root, &usb)?;
    for (_, _, png) in &texts {
        wallet.add_image(png)?;
    }
    let again = wallet.add_image(&texts[0].2)?;
    story.check(
        "adding the same credential twice keeps one",
        !again.new,
        "it was added twice",
    );
    match wallet.best(now)? {
        propusk_wallet::Best::Valid(best) => {
            println!(
                "   show this one: {} {}, valid until {}",
                best.credential_type.as_str(),
                best.id,
                moscow().time(best.valid_until)
            );
            story.check(
                "the best is the vaccination, valid the longest",
                best.credential_type == propusk_spec::CredentialType::Vaccination,
                best.credential_type.as_str(),
            );
        }
        _ => story.check(
            "the wallet has a credential to show",
            false,
            "none would be accepted",
        ),
    }

    story.step("Key rotation: old credentials stay valid, new ones are signed by the new key");
    let new_key = issuer.rotate(now.plus_seconds(1), false)?;
    println!(
        "   signing key {} retired, {} active",
        first_key, new_key.key_id
    );
    let (_, json) = &crate::examples::issuance(now)[0];
    let mut request = Request::from_json(json)?;
    request.holder.given_name = Some(propusk_spec::Name::new("Мария", None)?);
    let after = issuer.issue(&request, now.plus_seconds(2))?;
    issuer.publish(&usb, now.plus_seconds(3))?;
    store.sync_from_dir(&usb, now.plus_seconds(3))?;
    let old = check(&store, &texts[0].1.credential, now.plus_seconds(5))?;
    let new = check(&store, &after.credential, now.plus_seconds(5))?;
    story.check(
        "a credential of the old key is still valid",
        old.verdict == Verdict::Valid,
        old.reason.map_or("-", Reason::code),
    );
    story.check(
        "the new credential is valid",
        new.verdict == Verdict::Valid,
        new.reason.map_or("-", Reason::code),
    );
    story.check(
        "the new credential names the new key",
        after.key_id == new_key.key_id,
        &after.key_id,
    );

    story.step("Revocation: the test result is withdrawn, published, synced, and rejected");
    let test = &texts[2].1;
    issuer.revoke(&test.id, now.plus_seconds(6))?;
    issuer.publish(&usb, now.plus_seconds(7))?;
    let synced = store.sync_from_dir(&usb, now.plus_seconds(7))?;
    println!("   {synced}");
    let revoked = check(&store, &test.credential, now.plus_seconds(8))?;
    story.check(
        "the revoked test is rejected as revoked",
        revoked.reason == Some(Reason::Revoked),
        revoked.reason.map_or("-", Reason::code),
    );

    story.step("Expiry: the same codes checked four days later");
    let later = now.plus_seconds(4 * 86_400);
    let pass = check(&store, &texts[4].1.credential, later)?;
    println!(
        "   pass: {} ({})",
        pass.verdict.as_str(),
        pass.reason.map_or("-", Reason::code)
    );
    story.check(
        "the 24-hour pass has expired",
        pass.reason == Some(Reason::Expired),
        pass.reason.map_or("-", Reason::code),
    );
    let vaccination = check(&store, &texts[0].1.credential, later)?;
    story.check(
        "the vaccination is still valid",
        vaccination.verdict == Verdict::Valid,
        vaccination.reason.map_or("-", Reason::code),
    );

    story.step("The portal link, served by the real server on a loopback port");
    drop(issuer);
    let mut server_issuer = Issuer::open(&iss)?;
    server_issuer.unlock(PASSPHRASE)?;
    let state = propusk_issuer::server::AppState::new(
        &iss,
        server_issuer,
        propusk_issuer::server::PORTAL_RATE,
    )?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let server = runtime.spawn(propusk_issuer::server::serve_listener(
        state,
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let vaccination = &texts[0].1;
    let url = format!("http://127.0.0.1:{port}/c/{}?lang=en", vaccination.id);
    println!(
        "   {}  (the QR's link: {})",
        url,
        vaccination.links.as_ref().map_or("-", |l| l.short.as_str())
    );
    let page = ureq::get(&url).call()?.body_mut().read_to_string()?;
    story.check(
        "the portal says the certificate is valid",
        page.contains("Certificate valid"),
        "no valid status on the page",
    );
    story.check(
        "the portal shows only initials, date of birth and the masked document",
        page.contains("И. И. И.")
            && page.contains("45** ***789")
            && !page.contains("Иванов")
            && !page.contains("123789"),
        "the page shows too much or too little",
    );
    let revoked_page = ureq::get(&format!("http://127.0.0.1:{port}/c/{}?lang=ru", test.id))
        .call()?
        .body_mut()
        .read_to_string()?;
    story.check(
        "the portal says the revoked test is revoked (in Russian)",
        revoked_page.contains("Сертификат отозван"),
        "no revoked status",
    );
    let _ = stop.send(());
    let _ = runtime.block_on(server);
    Ok(())
}

/// The demo issuer's zone, in English, for the times the demo prints.
fn moscow() -> propusk_trust_list::Locale {
    propusk_trust_list::Locale::named(propusk_trust_list::Lang::En, "Europe/Moscow")
}
