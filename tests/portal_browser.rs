//! The portal page as a phone's browser shows it: headless Chromium renders the page behind a
//! link QR, in Russian and in English, from the real server on loopback. The DOM must show the
//! status and the masked holder (and no full name or number), and the screenshot must not be
//! blank. `.ci/run` installs Debian's chromium and sets PROPUSK_REQUIRE_TOOLS=1; elsewhere,
//! without a browser, the test says so and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

mod browser;
mod common;
use common::{PASS, days_ago, propusk_with, start_server};

fn browser() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn chromium(browser: &Path, profile: &Path, args: &[&str]) -> String {
    let out = Command::new(browser)
        .args(browser::HEADLESS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_portal_page_in_a_real_browser() {
    let Some(browser) = browser() else {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "PROPUSK_REQUIRE_TOOLS is set but no chromium is installed"
        );
        eprintln!("no chromium here: the browser test did not run (apt-get install chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    let init = propusk_with(
        &[
            "issuer",
            "init",
            "--dir",
            dir.to_str().unwrap(),
            "--url",
            "http://127.0.0.1:1",
            "--at",
            &days_ago(7),
        ],
        "",
        &[PASS],
    );
    assert_eq!(init.status.code(), Some(0));
    let input = tmp.path().join("in.json");
    let json = format!(
        r#"{{"type": "vaccination", "holder": {{"family_name": "Иванов", "given_name": "Иван", "patronymic": "Иванович", "birth_date": "1980-05-12",
            "document": {{"kind": "passport", "number": "4510 123789"}}}},
            "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "{}", "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}}}"#,
        &days_ago(1)[..10]
    );
    std::fs::write(&input, json).unwrap();
    let issued = propusk_with(
        &[
            "issuer",
            "issue",
            "--dir",
            dir.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--link",
        ],
        "",
        &[PASS],
    );
    let link = String::from_utf8_lossy(&issued.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let (_server, url) = start_server(&dir, &[PASS]);
    // The link as issued points at the configured portal; the same path on this server.
    let path = &link[link.find("/c/").unwrap()..];
    let profile = tmp.path().join("profile");

    for (lang, status, note) in [
        (
            "ru",
            "Сертификат действителен",
            // The script adds it to the note's text (the attribute alone would not read so).
            "личность. Эта ссылка содержит сам подписанный сертификат",
        ),
        (
            "en",
            "Certificate valid",
            "document. This link also carries the signed certificate",
        ),
    ] {
        let page = format!(
            "{url}{}?lang={lang}{}",
            &path[..path.find('#').unwrap()],
            &path[path.find('#').unwrap()..]
        );
        let dom = chromium(&browser, &profile, &["--dump-dom", &page]);
        assert!(dom.contains(status), "{lang}: {dom}");
        assert!(
            dom.contains("И. И. И.") && dom.contains("1980") && dom.contains("45** ***789"),
            "{lang}: {dom}"
        );
        assert!(
            dom.contains(note),
            "the page explains the fragment ({lang}): {dom}"
        );
        assert!(
            !dom.contains("Иванов") && !dom.contains("123789"),
            "{lang}: full data shown"
        );

        let shot = tmp.path().join(format!("portal-{lang}.png"));
        chromium(
            &browser,
            &profile,
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=412,915",
                &page,
            ],
        );
        let image = image::open(&shot).unwrap().into_rgb8();
        let first = *image.get_pixel(0, 0);
        assert!(
            image.pixels().any(|p| *p != first),
            "{lang}: the screenshot is blank"
        );
        // The status banner's green is on screen.
        let green = image
            .pixels()
            .filter(|p| p.0[1] > 100 && p.0[0] < 60 && p.0[2] < 90)
            .count();
        assert!(
            green > 1000,
            "{lang}: no green status banner ({green} pixels)"
        );
    }
}
