//! The real server on a loopback port: a verifier syncs over HTTP and verifies; the operator
//! issues, revokes and rotates through the API; the next sync sees it; a sync with nothing new
//! is a 304; a wrong token is a 401 and changes nothing; a server that is down keeps the old
//! trust data in force.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod common;
use common::{PASS, days_ago, propusk_with, s, start_server, verdict};

fn vaccination(record: &str) -> String {
    format!(
        r#"{{"type": "vaccination", "record_id": "{record}",
 "holder": {{"family_name": "Иванов", "given_name": "Иван", "birth_date": "1980-05-12",
            "document": {{"kind": "passport", "number": "4510 123789"}}}},
 "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "{}",
                 "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}}}"#,
        &days_ago(1)[..10]
    )
}

fn post(url: &str, token: &str, body: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn sync(store: &Path, url: &str) -> (Option<i32>, String, String) {
    let out = propusk_with(
        &["verifier", "sync", "--store", s(store), "--url", url],
        "",
        &[],
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
/// An issuer command with the passphrase, then `issuer publish --dir DIR --out USB`: both must
/// succeed.
fn then_publish(dir: &Path, usb: &Path, args: &[&str]) {
    for args in [
        args,
        &["issuer", "publish", "--dir", s(dir), "--out", s(usb)],
    ] {
        let out = propusk_with(args, "", &[PASS]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn sync_over_http_and_the_operator_api() {
    common::on_every_backend(
        "sync_over_http_and_the_operator_api",
        sync_over_http_and_the_operator_api_on,
    );
}

fn sync_over_http_and_the_operator_api_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, store) = (tmp.path().join("issuer"), tmp.path().join("verifier"));
    let init = propusk_with(
        &[
            "issuer",
            "init",
            "--dir",
            s(&dir),
            "--url",
            "https://portal.example",
            "--at",
            &days_ago(7),
        ],
        "",
        &[PASS],
    );
    assert_eq!(init.status.code(), Some(0));
    let token = std::fs::read_to_string(dir.join("operator.token"))
        .unwrap()
        .trim()
        .to_owned();
    let (server, url) = start_server(&dir, &[PASS]);

    assert_eq!(
        propusk_with(
            &[
                "verifier",
                "init",
                "--store",
                s(&store),
                "--root",
                s(&dir.join("root.pub"))
            ],
            "",
            &[]
        )
        .status
        .code(),
        Some(0)
    );
    let (code, out, err) = sync(&store, &url);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("trust data in force: sequence 1"), "{out}");

    // A traveller's wallet refreshes its trust data online too: the root the first time, the
    // root whose server it is after.
    let wallet = tmp.path().join("wallet");
    let trust = |extra: &[&str]| {
        let mut args = vec!["wallet", "--dir", s(&wallet), "trust", "--url", &url];
        args.extend_from_slice(extra);
        propusk_with(&args, "", &[])
    };
    let first = trust(&["--root", s(&dir.join("root.pub"))]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("sequence 1"));
    assert_eq!(trust(&[]).status.code(), Some(0));
    let other = tmp.path().join("other.pub");
    std::fs::write(
        &other,
        propusk_trust_list::format_public_key(
            &ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key(),
        ),
    )
    .unwrap();
    // Another root is taken only with data it signed: these are not, and nothing is added.
    assert_eq!(trust(&["--root", s(&other)]).status.code(), Some(65));
    let roots = propusk_with(
        &["wallet", "--dir", s(&wallet), "trust", "--list", "--json"],
        "",
        &[],
    );
    let roots: serde_json::Value = serde_json::from_slice(&roots.stdout).unwrap();
    assert_eq!(roots.as_array().map(Vec::len), Some(1), "{roots}");
    assert_eq!(roots[0]["home"], true, "{roots}");

    let (status, first) = post(
        &format!("{url}/api/v1/credentials"),
        &token,
        &vaccination("R-1"),
    );
    assert_eq!(status, 200, "{first}");
    let (status, second) = post(
        &format!("{url}/api/v1/credentials"),
        &token,
        &vaccination("R-2"),
    );
    assert_eq!(status, 200);
    let (first_text, second_text) = (
        first["credential"].as_str().unwrap(),
        second["credential"].as_str().unwrap(),
    );
    assert_eq!(verdict(&store, first_text, None), ("valid".into(), None));
    // The holder's wallet takes the issuer's answer: the credential, and the names it gives
    // (which the credential does not carry) as the holder's note.
    let answer = tmp.path().join("answer.json");
    std::fs::write(&answer, first.to_string()).unwrap();
    let add_issued = || {
        propusk_with(
            &["wallet", "--dir", s(&wallet), "add", "--issued", s(&answer)],
            "",
            &[],
        )
    };
    let added = add_issued();
    assert_eq!(added.status.code(), Some(0), "{added:?}");
    let list = propusk_with(&["wallet", "--dir", s(&wallet), "list", "--json"], "", &[]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["name"], "Иванов Иван", "{list}");
    // Another person's names on the answer are refused: they must begin with its initials.
    let mut other_names = first.clone();
    other_names["holder"]["family_name"] = "Петров".into();
    other_names["holder"]["family_name_latin"] = "PETROV".into();
    std::fs::write(&answer, other_names.to_string()).unwrap();
    let refused = add_issued();
    assert_eq!(refused.status.code(), Some(65), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("names are not those"),
        "{refused:?}"
    );
    std::fs::write(&answer, r#"{"credential": "PR2:"}"#).unwrap();
    let refused = add_issued();
    assert_eq!(refused.status.code(), Some(65), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not an issuer's answer"),
        "{refused:?}"
    );

    // A wrong token is refused and changes nothing.
    let (status, body) = post(
        &format!(
            "{url}/api/v1/credentials/{}/revoke",
            second["id"].as_str().unwrap()
        ),
        "not-the-token",
        "",
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );

    // Revoke the first, rotate the key: two new publications.
    let (status, _) = post(
        &format!(
            "{url}/api/v1/credentials/{}/revoke",
            first["id"].as_str().unwrap()
        ),
        &token,
        "",
    );
    assert_eq!(status, 200);
    let (status, key) = post(&format!("{url}/api/v1/keys/rotate"), &token, "");
    assert_eq!((status, key["status"].as_str()), (200, Some("active")));

    let (code, out, err) = sync(&store, &url);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("sequence 1 → 3"), "{out}");
    assert_eq!(
        verdict(&store, first_text, None),
        ("invalid".into(), Some("revoked".into()))
    );
    assert_eq!(
        verdict(&store, second_text, None),
        ("valid".into(), None),
        "the refused call changed nothing"
    );

    // Nothing new: the index answers 304.
    let (code, out, _) = sync(&store, &url);
    assert_eq!(code, Some(0));
    assert!(out.contains("already up to date: sequence 3"), "{out}");

    // A revocation published from the command line while the server runs: one issuer has one
    // current publication, whoever made it, and the server serves it (within its refresh).
    let (second_id, usb) = (second["id"].as_str().unwrap(), tmp.path().join("usb"));
    then_publish(
        &dir,
        &usb,
        &["issuer", "revoke", "--dir", s(&dir), second_id],
    );
    let mut synced = String::new();
    for _ in 0..20 {
        let (code, out, err) = sync(&store, &url);
        assert_eq!(code, Some(0), "{err}");
        synced = out;
        if synced.contains("3 → 4") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(synced.contains("3 → 4"), "{synced}");
    assert_eq!(
        verdict(&store, second_text, None),
        ("invalid".into(), Some("revoked".into()))
    );

    // A key compromised from the command line: once published, the portal judges with the same
    // engine and trust data as verifiers, and stops showing its credentials as valid.
    let (status, third) = post(
        &format!("{url}/api/v1/credentials"),
        &token,
        &vaccination("R-3"),
    );
    assert_eq!(status, 200, "{third}");
    let signer = propusk_spec::decode(third["credential"].as_str().unwrap())
        .unwrap()
        .key_id()
        .to_string();
    let (status, _) = post(&format!("{url}/api/v1/keys/rotate"), &token, "");
    assert_eq!(status, 200);
    let page = |id: &str| {
        ureq::get(&format!("{url}/c/{id}?lang=en"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    };
    let third_id = third["id"].as_str().unwrap();
    assert!(page(third_id).contains(r#"data-verdict="valid""#));
    let since = days_ago(2);
    let compromise = [
        "issuer",
        "key",
        "compromise",
        "--dir",
        s(&dir),
        &signer,
        "--since",
        &since,
    ];
    then_publish(&dir, &usb, &compromise);
    let mut shown = String::new();
    for _ in 0..10 {
        shown = page(third_id);
        if shown.contains("key_revoked") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(
        shown.contains(r#"data-verdict="invalid" data-reason="key_revoked""#),
        "{shown}"
    );

    // The server goes away: the verifier says so and keeps what it has.
    drop(server);
    let (code, _, err) = sync(&store, &url);
    assert_eq!(code, Some(69), "{err}");
    assert!(
        err.contains("keeping the trust data in force (sequence 4"),
        "{err}"
    );
    assert_eq!(
        verdict(&store, first_text, None),
        ("invalid".into(), Some("revoked".into()))
    );
}

/// `serve --addr localhost:PORT` works, `GET /` says what the server is, and a port in use is
/// refused naming the address, with no panic and no new publication; a restart publishes no
/// new sequence either (issue 23).
#[test]
fn serve_takes_a_host_name_says_what_it_is_and_names_a_busy_port() {
    common::on_every_backend(
        "serve_takes_a_host_name_says_what_it_is_and_names_a_busy_port",
        serve_takes_a_host_name_says_what_it_is_and_names_a_busy_port_on,
    );
}

fn serve_takes_a_host_name_says_what_it_is_and_names_a_busy_port_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    let out = propusk_with(
        &[
            "issuer",
            "init",
            "--dir",
            s(&dir),
            "--name",
            "Минздрав России",
        ],
        "",
        &[PASS],
    );
    assert_eq!(out.status.code(), Some(0));
    let (_server, url) = common::start_server_on(&dir, &[PASS], "localhost:0");
    let home = ureq::get(&format!("{url}/?lang=en"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        home.contains("Минздрав России") && home.contains("/c/ID"),
        "{home}"
    );

    let sequence = |url: &str| {
        let mut index = ureq::get(&format!("{url}/bundle/index.cbor"))
            .call()
            .unwrap();
        let bytes = index.body_mut().read_to_vec().unwrap();
        let root = std::fs::read_to_string(dir.join("root.pub")).unwrap();
        let root = propusk_trust_list::parse_public_key(&root).unwrap();
        propusk_trust_list::Index::open(&bytes, &root)
            .unwrap()
            .sequence
    };
    let first = sequence(&url);
    drop(_server);

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = propusk_with(&["serve", "--dir", s(&dir), "--addr", &addr], "", &[PASS]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "no panic: {said}");
    assert!(said.contains(&addr) && said.contains("in use"), "{said}");
    // Neither the refused start nor a restart published anything new.
    let (_again, url) = common::start_server(&dir, &[PASS]);
    assert_eq!(sequence(&url), first);
    let out = propusk_with(
        &["serve", "--dir", s(&dir), "--addr", "nowhere"],
        "",
        &[PASS],
    );
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn the_api_issues_the_eu_twin_on_request() {
    common::on_every_backend(
        "the_api_issues_the_eu_twin_on_request",
        the_api_issues_the_eu_twin_on_request_on,
    );
}

fn the_api_issues_the_eu_twin_on_request_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    let at = days_ago(7);
    let run = |args: &[&str]| propusk_with(args, "", &[PASS]);
    assert_eq!(
        run(&["issuer", "init", "--dir", s(&dir), "--at", &at])
            .status
            .code(),
        Some(0)
    );
    let token = std::fs::read_to_string(dir.join("operator.token"))
        .unwrap()
        .trim()
        .to_owned();
    let (_server, url) = start_server(&dir, &[PASS]);
    let issue =
        |query: &str, body: &str| post(&format!("{url}/api/v1/credentials{query}"), &token, body);
    // Before `issuer eu init`: a conflict, and nothing issued.
    let (status, answer) = issue("?eu=true", &vaccination("EU-0"));
    assert_eq!((status, answer["error"].as_str()), (409, Some("conflict")));
    assert!(answer["message"].as_str().unwrap().contains("eu init"));

    assert_eq!(
        run(&["issuer", "eu", "init", "--dir", s(&dir), "--at", &at])
            .status
            .code(),
        Some(0)
    );
    let (status, answer) = issue("?eu=true", &vaccination("EU-1"));
    assert_eq!(status, 200, "{answer}");
    let twin = answer["eu"].as_str().unwrap();
    assert!(twin.starts_with("HC1:"));
    let hc1 = propusk_eudcc::decode(twin).unwrap();
    let ci = hc1.certificate["v"][0]["ci"].as_str().unwrap();
    assert_eq!(
        propusk_eudcc::twin::credential_id_of(ci).map(|id| id.to_string()),
        answer["id"].as_str().map(str::to_owned)
    );
    // Without the option, no twin.
    let (_, plain) = issue("", &vaccination("EU-2"));
    assert!(plain.get("eu").is_none(), "{plain}");

    // A record that cannot make an EU DCC is refused whole: no credential either.
    let exemption = format!(
        r#"{{"type": "exemption", "record_id": "EU-3",
 "holder": {{"family_name": "Иванов", "given_name": "Иван", "birth_date": "1980-05-12",
            "document": {{"kind": "passport", "number": "4510 123789"}}}},
 "exemption": {{"valid_from": "{}", "valid_until": "{}", "country": "RU"}}}}"#,
        &days_ago(1)[..10],
        &days_ago(-30)[..10]
    );
    let (status, answer) = issue("?eu=true", &exemption);
    assert_eq!(
        (status, answer["error"].as_str()),
        (422, Some("refused")),
        "{answer}"
    );
    let (status, _) = get_json(&format!("{url}/api/v1/issuance/EU-3"), &token);
    assert_eq!(status, 404);
    let (status, answer) = issue("?eu=maybe", &vaccination("EU-4"));
    assert_eq!((status, answer["error"].as_str()), (400, Some("bad_input")));
}

fn get_json(url: &str, token: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// `GET /metrics` answers in the Prometheus text format (read here by a Prometheus parser),
/// with the operator's token only, and counts the requests made by route and status; on
/// `--metrics-addr` it needs no token (issue 23).
#[test]
fn metrics_count_the_requests_in_the_prometheus_format() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("issuer");
    let out = propusk_with(&["issuer", "init", "--dir", s(&dir)], "", &[PASS]);
    assert_eq!(out.status.code(), Some(0));
    let token = std::fs::read_to_string(dir.join("operator.token")).unwrap();
    let monitor = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let monitor_addr = monitor.local_addr().unwrap().to_string();
    drop(monitor);
    let (_server, url) = common::start_server_with(
        &dir,
        &[PASS],
        &["--addr", "127.0.0.1:0", "--metrics-addr", &monitor_addr],
    );
    let agent = common::http();
    let status = |path: &str| {
        agent
            .get(&format!("{url}{path}"))
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    for _ in 0..3 {
        assert_eq!(status("/c/AAAAAAAAAAAAAAAAAAAAA"), 404);
    }
    assert_eq!(status("/bundle/index.cbor"), 200);
    // Without the token: refused, and counted.
    assert_eq!(status("/metrics"), 401);
    let read = |url: &str, token: Option<&str>| {
        let mut request = agent.get(url);
        if let Some(t) = token {
            request = request.header("Authorization", &format!("Bearer {}", t.trim()));
        }
        let mut response = request.call().unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let text = response.body_mut().read_to_string().unwrap();
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    let scrape = read(&format!("{url}/metrics"), Some(&token));
    let value = |name: &str, labels: &[(&str, &str)]| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                _ => f64::NAN,
            })
    };
    assert_eq!(
        value(
            "propusk_http_requests_total",
            &[("route", "/c/:id"), ("status", "404")]
        ),
        Some(3.0),
        "{:?}",
        scrape.samples
    );
    assert_eq!(
        value(
            "propusk_http_requests_total",
            &[("route", "/bundle/:name"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(value("propusk_unauthorized_total", &[]), Some(1.0));
    assert_eq!(value("propusk_publication_sequence", &[]), Some(1.0));
    let latency = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "propusk_http_request_duration_seconds"
                && s.labels.get("route") == Some("/c/:id")
        })
        .map(|s| s.value.clone());
    assert!(
        matches!(latency, Some(prometheus_parse::Value::Histogram(ref h)) if h.iter().any(|b| b.less_than.is_infinite() && b.count == 3.0)),
        "{latency:?}"
    );
    // The monitoring address: no token needed, the same figures.
    let monitored = read(&format!("http://{monitor_addr}/metrics"), None);
    assert!(
        monitored
            .samples
            .iter()
            .any(|s| s.metric == "propusk_publication_sequence")
    );

    // SIGTERM (a service manager stopping it): the server stops by itself, exit 0.
    let mut server = _server;
    let pid = server.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let code = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(code, Some(0), "a clean stop");
}
