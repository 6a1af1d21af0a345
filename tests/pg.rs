//! The scale-out store on a real PostgreSQL (the cluster `PROPUSK_TEST_DATABASE_URL` names; each
//! test in a fresh database): a whole SQLite issuer migrated and checked, two `serve` processes
//! on one database, publishers and batches racing on it. Skipped with a message without the
//! variable; `.ci/run` starts a cluster and requires them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Output;

mod common;
use common::{PASS, fresh_database, json_lines, ok, propusk_with, s, start_server};

/// The admin URL of the test cluster, or `None` (the test is skipped, unless required).
fn cluster(test: &str) -> Option<String> {
    match std::env::var("PROPUSK_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
                "PROPUSK_REQUIRE_TOOLS is set but PROPUSK_TEST_DATABASE_URL is not"
            );
            eprintln!("{test}: no PROPUSK_TEST_DATABASE_URL: skipped");
            None
        }
    }
}

fn run_in(database: Option<&str>, args: &[&str]) -> Output {
    match database {
        Some(url) => propusk_with(args, "", &[PASS, ("PROPUSK_DATABASE_URL", url)]),
        None => propusk_with(args, "", &[PASS]),
    }
}

const AT: &str = "2026-06-02T10:00:00Z";

fn registry(n: usize) -> String {
    let mut csv = String::from(
        "record_id,type,family_name,given_name,birth_date,document_kind,document_number,product,dose,doses,date,country,administered_by\n",
    );
    for i in 0..n {
        csv.push_str(&format!(
            "R-{i:05},vaccination,Иванов,Иван,1980-05-12,passport,4510 {i:06},Sputnik-V,2,2,2026-06-01,RU,ГБУЗ ГП № 2\n"
        ));
    }
    csv
}

fn init(dir: &Path, database: Option<&str>) {
    ok(run_in(
        database,
        &[
            "issuer",
            "init",
            "--dir",
            s(dir),
            "--name",
            "Минздрав России",
            "--country",
            "RU",
            "--url",
            "https://portal.example",
            "--at",
            "2026-06-01T08:00:00Z",
        ],
    ));
}

/// `issuer batch` of `input` into `out` at [`AT`], without images, with `extra` flags; its
/// output.
fn batch(database: Option<&str>, dir: &Path, input: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "issuer",
        "batch",
        "--dir",
        s(dir),
        "--input",
        s(input),
        "--out",
        s(out),
        "--at",
        AT,
        "--no-images",
    ];
    args.extend_from_slice(extra);
    ok(run_in(database, &args))
}

/// An issuer initialised in a fresh database `name` of the cluster `admin`: the database, the
/// temporary directory, and the issuer's directory in it.
fn pg_issuer(
    admin: &str,
    name: &str,
) -> (common::FreshDatabase, tempfile::TempDir, std::path::PathBuf) {
    let db = fresh_database(admin, name);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    init(&dir, Some(&db.url));
    (db, tmp, dir)
}

#[test]
fn a_whole_sqlite_issuer_migrates_and_goes_on_in_postgres() {
    let Some(admin) = cluster("migrate") else {
        return;
    };
    let db = fresh_database(&admin, "migrate");
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out, usb) = (
        tmp.path().join("iss"),
        tmp.path().join("out"),
        tmp.path().join("usb"),
    );
    init(&dir, None);
    ok(run_in(
        None,
        &["issuer", "eu", "init", "--dir", s(&dir), "--at", AT],
    ));
    let input = tmp.path().join("registry.csv");
    std::fs::write(&input, registry(40)).unwrap();
    batch(None, &dir, &input, &out, &["--eu"]);
    let csv = std::fs::read_to_string(out.join("issued.csv")).unwrap();
    let first_id = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_owned();
    ok(run_in(
        None,
        &["issuer", "revoke", "--dir", s(&dir), &first_id, "--at", AT],
    ));
    ok(run_in(
        None,
        &[
            "issuer",
            "publish",
            "--dir",
            s(&dir),
            "--out",
            s(&usb),
            "--at",
            AT,
        ],
    ));
    let audit = |database: Option<&str>| -> serde_json::Value {
        serde_json::from_str(&ok(run_in(
            database,
            &["issuer", "audit", "--dir", s(&dir), "--json"],
        )))
        .unwrap()
    };
    let audit_before = audit(None);

    let copied = ok(run_in(
        None,
        &["issuer", "migrate", "--dir", s(&dir), "--to", &db.url],
    ));
    assert!(
        copied.contains("credentials") && copied.contains("40 rows"),
        "{copied}"
    );
    assert!(copied.contains("digest match"), "{copied}");
    // Never twice: the SQLite store is marked as moved.
    let again = run_in(
        None,
        &["issuer", "migrate", "--dir", s(&dir), "--to", &db.url],
    );
    assert_eq!(again.status.code(), Some(78));
    // The old SQLite store refuses every command, naming the database to use: nothing can be
    // issued there and revoked here (one registry, not two).
    for args in [
        vec!["issuer", "revoke", "--dir", s(&dir), &first_id, "--at", AT],
        vec!["issuer", "record", "--dir", s(&dir), "R-00007"],
        vec![
            "issuer",
            "batch",
            "--dir",
            s(&dir),
            "--input",
            s(&input),
            "--out",
            s(&out),
        ],
    ] {
        let refused = run_in(None, &args);
        let said = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(78), "{args:?}: {said}");
        assert!(
            said.contains("moved to") && said.contains("--database"),
            "{said}"
        );
        assert!(!said.contains("password"), "{said}");
    }

    // The same issuer, now in PostgreSQL: the audit log, the records, the revocation, the EU
    // keys; the next publication follows sequence 1 and a verifier takes it as a delta.
    let pg = Some(db.url.as_str());
    let audit_after = audit(pg);
    assert_eq!(audit_after, audit_before);
    let record = ok(run_in(
        pg,
        &["issuer", "record", "--dir", s(&dir), "R-00007"],
    ));
    assert!(record.contains("\"status\":\"issued\""), "{record}");
    let second_id = csv
        .lines()
        .nth(2)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_owned();
    let store = tmp.path().join("verifier");
    common::verifier_init(&store, &dir);
    ok(run_in(
        None,
        &[
            "verifier",
            "sync",
            "--store",
            s(&store),
            "--from",
            s(&usb),
            "--at",
            AT,
        ],
    ));
    ok(run_in(
        pg,
        &["issuer", "revoke", "--dir", s(&dir), &second_id, "--at", AT],
    ));
    let published = ok(run_in(
        pg,
        &[
            "issuer",
            "publish",
            "--dir",
            s(&dir),
            "--out",
            s(&usb),
            "--at",
            AT,
        ],
    ));
    assert!(published.contains("sequence 2 (2 revoked"), "{published}");
    let synced = ok(run_in(
        None,
        &["verifier", "sync", "--store", s(&store), "--at", AT],
    ));
    assert!(synced.contains("sequence 1 → 2"), "{synced}");
    let twins: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert!(twins.iter().all(|t| t.starts_with("HC1:")), "{csv}");
    let revoked = json_lines(&propusk_with(
        &[
            "verify",
            "--store",
            s(&store),
            "--json",
            "--at",
            AT,
            twins[1],
        ],
        "",
        &[],
    ));
    assert_eq!(
        revoked[0]["reason"], "revoked",
        "the twin of the second credential"
    );
    // The audit log stays append-only in the database itself.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    assert!(
        client
            .execute("UPDATE audit SET detail = 'x'", &[])
            .is_err()
    );
    assert!(client.execute("DELETE FROM audit", &[]).is_err());
}

/// `GET url` as text.
fn get(url: &str) -> (u16, String) {
    get_with(&common::http(), url)
}

/// `GET url` as text, through `agent` (its connections kept alive).
fn get_with(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut response = agent.get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

fn api(url: &str, token: &str, body: &str) -> serde_json::Value {
    let agent = common::http();
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .send(body)
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

/// Polls `f` for up to 10 s until it holds.
fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn two_servers_on_one_database_are_one_issuer() {
    let Some(admin) = cluster("two servers") else {
        return;
    };
    let (db, tmp, dir) = pg_issuer(&admin, "two_servers");
    let env = [PASS, ("PROPUSK_DATABASE_URL", db.url.as_str())];
    let token = token(&dir);
    let (_a, url_a) = start_server(&dir, &env);
    let (_b, url_b) = start_server(&dir, &env);
    let body = vaccination("S-1");
    // Issued through A: B's portal shows it at once.
    let issued = api(&format!("{url_a}/api/v1/credentials"), &token, &body);
    let id = issued["id"].as_str().unwrap();
    let (status, page) = get(&format!("{url_b}/c/{id}?lang=en"));
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-verdict="valid""#), "{page}");
    // Revoked through B: A's portal shows it at once.
    api(
        &format!("{url_b}/api/v1/credentials/{id}/revoke"),
        &token,
        "",
    );
    let (_, page) = get(&format!("{url_a}/c/{id}?lang=en"));
    assert!(page.contains(r#"data-verdict="invalid""#), "{page}");
    // Both serve the newest publication (B's, made by the revocation).
    let index = |url: &str| {
        let agent = common::http();
        let mut response = agent
            .get(&format!("{url}/bundle/index.cbor"))
            .call()
            .unwrap();
        response.body_mut().read_to_vec().unwrap()
    };
    eventually("both servers serve one index", || {
        let a = index(&url_a);
        a == index(&url_b) && !a.is_empty()
    });
    let store = tmp.path().join("verifier");
    common::verifier_init(&store, &dir);
    let synced = ok(run_in(
        None,
        &["verifier", "sync", "--store", s(&store), "--url", &url_a],
    ));
    assert!(synced.contains("sequence"), "{synced}");
    let text = issued["credential"].as_str().unwrap();
    let v = json_lines(&propusk_with(
        &["verify", "--store", s(&store), "--json", text],
        "",
        &[],
    ));
    assert_eq!(v[0]["reason"], "revoked");

    // A revocation through A publishes; a verifier that syncs from A and at once from B (a
    // load balancer alternating) is never told B's index is a rollback (review 3, F10).
    for n in 2..5 {
        let more = api(
            &format!("{url_a}/api/v1/credentials"),
            &token,
            &vaccination(&format!("S-{n}")),
        );
        let id = more["id"].as_str().unwrap();
        api(
            &format!("{url_a}/api/v1/credentials/{id}/revoke"),
            &token,
            "",
        );
        for url in [&url_a, &url_b] {
            let out = run_in(
                None,
                &["verifier", "sync", "--store", s(&store), "--url", url],
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{url}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = more["credential"].as_str().unwrap();
        let v = json_lines(&propusk_with(
            &["verify", "--store", s(&store), "--json", text],
            "",
            &[],
        ));
        assert_eq!(v[0]["reason"], "revoked");
    }

    // Twenty publications in quick succession while the verifier syncs from A and B in turn:
    // a server a moment behind, or a file its index named gone by the time it is asked for,
    // is lag, never a failed sync (issue 23).
    let publisher = {
        let (dir, url, usb) = (dir.clone(), db.url.clone(), tmp.path().join("usb"));
        std::thread::spawn(move || {
            for _ in 0..20 {
                ok(run_in(
                    Some(&url),
                    &["issuer", "publish", "--dir", s(&dir), "--out", s(&usb)],
                ));
            }
        })
    };
    let mut syncs = 0;
    while !publisher.is_finished() || syncs < 4 {
        let url = [&url_a, &url_b][syncs % 2];
        let out = run_in(
            None,
            &["verifier", "sync", "--store", s(&store), "--url", url],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "sync {syncs} from {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        syncs += 1;
    }
    publisher.join().unwrap();
    eprintln!("{syncs} syncs during twenty publications, none failed");
}

/// The portal's lookups are gathered into one query per batch under load: each of many
/// concurrent requests gets its own credential, an unknown id gets "not found", a revoked one
/// its verdict.
#[test]
fn many_concurrent_portal_lookups_each_get_their_own_answer() {
    let Some(admin) = cluster("concurrent lookups") else {
        return;
    };
    let (db, tmp, dir) = pg_issuer(&admin, "concurrent_lookups");
    let input = tmp.path().join("registry.csv");
    std::fs::write(&input, registry(150)).unwrap();
    let out = tmp.path().join("out");
    batch(Some(&db.url), &dir, &input, &out, &[]);
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let texts: Vec<(String, String)> = client
        .query("SELECT id, text FROM credentials", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(texts.len(), 150);
    let env = [PASS, ("PROPUSK_DATABASE_URL", db.url.as_str())];
    let (_server, url) =
        common::start_server_with(&dir, &env, &["--addr", "127.0.0.1:0", "--portal-rate", "0"]);
    let revoked: HashSet<&str> = texts
        .iter()
        .step_by(10)
        .map(|(id, _)| id.as_str())
        .collect();
    for id in &revoked {
        api(
            &format!("{url}/api/v1/credentials/{id}/revoke"),
            &token(&dir),
            "",
        );
    }
    std::thread::scope(|scope| {
        for t in 0..24 {
            let (texts, revoked, url) = (&texts, &revoked, &url);
            scope.spawn(move || {
                let agent = common::http();
                let get = |url: &str| get_with(&agent, url);
                for (n, (id, text)) in texts.iter().enumerate().skip(t % 7) {
                    let (status, body) = get(&format!("{url}/c/{id}/credential"));
                    assert_eq!((status, body.as_str()), (200, text.as_str()), "{id}");
                    if n % 11 == t % 11 {
                        let (_, page) = get(&format!("{url}/c/{id}?lang=en"));
                        let verdict = if revoked.contains(id.as_str()) {
                            "invalid"
                        } else {
                            "valid"
                        };
                        assert!(
                            page.contains(&format!(r#"data-verdict="{verdict}""#)),
                            "{id}"
                        );
                    }
                    let unknown = propusk_spec::CredentialId::from_bytes([(t * 7 + n) as u8; 12]);
                    assert_eq!(get(&format!("{url}/c/{unknown}/credential")).0, 404);
                }
            });
        }
    });
}

#[test]
fn racing_publishers_and_batches_never_fork_or_duplicate() {
    let Some(admin) = cluster("racing") else {
        return;
    };
    let (db, tmp, dir) = pg_issuer(&admin, "racing");
    let pg = Some(db.url.as_str());
    // Eight publishers at once: eight distinct sequences, 1 to 8.
    let outs: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let out = tmp.path().join(format!("pub{i}"));
                let dir = &dir;
                scope.spawn(move || {
                    ok(run_in(
                        pg,
                        &[
                            "issuer",
                            "publish",
                            "--dir",
                            s(dir),
                            "--out",
                            s(&out),
                            "--at",
                            AT,
                        ],
                    ))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sequences: HashSet<u64> = outs
        .iter()
        .map(|o| {
            o.split("published sequence ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(sequences, (1..=8).collect::<HashSet<u64>>(), "{outs:?}");
    // Each publication verifies against the root (a verifier takes each directory in turn).
    let store = tmp.path().join("verifier");
    common::verifier_init(&store, &dir);
    let by_sequence: HashMap<u64, usize> = outs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                o.split("published sequence ")
                    .nth(1)
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap(),
                i,
            )
        })
        .collect();
    for sequence in 1..=8u64 {
        let from = tmp.path().join(format!("pub{}", by_sequence[&sequence]));
        ok(run_in(
            None,
            &[
                "verifier",
                "sync",
                "--store",
                s(&store),
                "--from",
                s(&from),
                "--at",
                AT,
            ],
        ));
    }

    // Two batch processes on the same registry: every record issued exactly once.
    let n = 300;
    let input = tmp.path().join("registry.csv");
    std::fs::write(&input, registry(n)).unwrap();
    let runs: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let out = tmp.path().join(format!("batch{i}"));
                let (dir, input) = (&dir, &input);
                scope.spawn(move || batch(pg, dir, input, &out, &[]))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let read = |i: usize| {
        std::fs::read_to_string(tmp.path().join(format!("batch{i}/issued.csv"))).unwrap()
    };
    assert_eq!(
        read(0),
        read(1),
        "both runs name the same credential for each record"
    );
    let issued: usize = runs
        .iter()
        .map(|r| {
            r.split("issued ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(issued, n, "{runs:?}");
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let count: i64 = client
        .query_one("SELECT count(*) FROM credentials", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, n as i64);
}

/// `scripts/pg-cluster.sh` on a port of this test's own (so that stopping it stops no other
/// test's database).
fn own_cluster(port: &str, mode: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-cluster.sh");
    let mut command = std::process::Command::new("bash");
    command.arg(&script).env("PG_PORT", port);
    if !mode.is_empty() {
        command.arg(mode);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Stops the cluster when the test ends, however it ends.
struct Cluster(&'static str);

impl Drop for Cluster {
    fn drop(&mut self) {
        own_cluster(self.0, "stop");
    }
}

#[test]
fn a_database_that_goes_away_is_answered_503_and_comes_back() {
    if cluster("database down").is_none() {
        return;
    }
    let port = "31331"; // below the ephemeral ports (32768+), which clients may hold
    let admin = own_cluster(port, "");
    let _cleanup = Cluster(port);
    let (db, tmp, dir) = pg_issuer(&admin, "down");
    let token = token(&dir);
    let env = [PASS, ("PROPUSK_DATABASE_URL", db.url.as_str())];
    let (_server, url) = start_server(&dir, &env);
    let body = vaccination;
    let agent = common::http();
    let post = |record: &str| {
        let mut r = agent
            .post(&format!("{url}/api/v1/credentials"))
            .header("Authorization", &format!("Bearer {token}"))
            .send(body(record))
            .unwrap();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let json: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap_or_default();
        (r.status().as_u16(), retry, json)
    };
    let (status, _, first) = post("D-1");
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap().to_owned();
    let bundle = |url: &str| {
        agent
            .get(&format!("{url}/bundle/index.cbor"))
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    // Something published, so that there are bundle files to serve.
    ok(run_in(
        Some(&db.url),
        &[
            "issuer",
            "publish",
            "--dir",
            s(&dir),
            "--out",
            s(&tmp.path().join("usb")),
        ],
    ));
    eventually("the server serves the publication", || bundle(&url) == 200);

    own_cluster(port, "down");
    let (status, retry, answer) = post("D-2");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "unavailable");
    assert_eq!(retry.as_deref(), Some("5"));
    let mut page = agent.get(&format!("{url}/c/{id}?lang=en")).call().unwrap();
    assert_eq!(page.status().as_u16(), 503, "never a wrong \"not found\"");
    assert!(page.headers().get("retry-after").is_some());
    let text = page.body_mut().read_to_string().unwrap();
    assert!(text.contains("Cannot check right now"), "{text}");
    assert_eq!(bundle(&url), 200, "the bundle files are still served");

    // The database returns: the server reconnects by itself.
    own_cluster(port, "");
    eventually("the API answers again", || post("D-3").0 == 200);
    let page = agent.get(&format!("{url}/c/{id}?lang=en")).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    // D-2 was answered 503: not issued; a retry issues it once.
    let (status, _, retried) = post("D-2");
    assert_eq!(status, 200, "{retried}");
    let (_, _, again) = post("D-2");
    assert_eq!(again["id"], retried["id"], "issued once");

    // Restarted while the server is idle: its first request finds the closed connection and
    // opens another, never a 503 (review 3, F12).
    own_cluster(port, "down");
    own_cluster(port, "");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let page = agent.get(&format!("{url}/c/{id}?lang=en")).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let (status, _, after) = post("D-4");
    assert_eq!(status, 200, "{after}");
    // What the operator's dashboard saw: the 503s, the reconnections, gathered lookups.
    let figures = agent
        .get(&format!("{url}/metrics"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let value = |name: &str| {
        figures
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} missing: {figures}"))
    };
    assert!(value("propusk_database_errors_total") >= 2.0, "{figures}");
    assert!(
        value("propusk_database_reconnects_total") >= 1.0,
        "{figures}"
    );
    assert!(value("propusk_gathered_lookups_total") >= value("propusk_gathered_queries_total"));
}

#[test]
fn a_server_killed_mid_burst_loses_and_duplicates_nothing() {
    let Some(admin) = cluster("killed mid burst") else {
        return;
    };
    let (db, _tmp, dir) = pg_issuer(&admin, "burst");
    let token = token(&dir);
    let env = [PASS, ("PROPUSK_DATABASE_URL", db.url.as_str())];
    let body = vaccination;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    // What each request was answered: the credential id, when it was answered as issued.
    let post = |url: &str, record: &str| -> Option<String> {
        let mut response = agent
            .post(&format!("{url}/api/v1/credentials"))
            .header("Authorization", &format!("Bearer {token}"))
            .send(body(record))
            .ok()?;
        if response.status().as_u16() != 200 {
            return None;
        }
        let v: serde_json::Value =
            serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()?;
        v["id"].as_str().map(str::to_owned)
    };
    let records: Vec<String> = (0..400).map(|i| format!("K-{i:03}")).collect();
    let answers = std::sync::atomic::AtomicUsize::new(0);
    let (mut server, url) = start_server(&dir, &env);
    let answered: Vec<(String, Option<String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks(100)
            .map(|mine| {
                let (url, post, answers) = (&url, &post, &answers);
                scope.spawn(move || {
                    mine.iter()
                        .map(|r| {
                            let id = post(url, r);
                            answers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            (r.clone(), id)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // SIGKILL once some have been answered: mid-burst.
        while answers.load(std::sync::atomic::Ordering::Relaxed) < 40 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        server.0.kill().unwrap();
        let _ = server.0.wait();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let done: HashMap<&str, &str> = answered
        .iter()
        .filter_map(|(r, id)| Some((r.as_str(), id.as_deref()?)))
        .collect();
    assert!(
        !done.is_empty() && done.len() < records.len(),
        "killed mid-burst: {} of {} answered",
        done.len(),
        records.len()
    );
    // Another server on the same database; every record again: what was answered stands.
    let (_again, url) = start_server(&dir, &env);
    for record in &records {
        let id = post(&url, record).unwrap();
        if let Some(before) = done.get(record.as_str()) {
            assert_eq!(&id, before, "{record}: answered as issued, then lost");
        }
    }
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let count: i64 = client
        .query_one("SELECT count(*) FROM credentials", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, records.len() as i64, "one credential per record");
}

/// The operator token of the issuer in `dir`.
fn token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("operator.token"))
        .unwrap()
        .trim()
        .to_owned()
}

/// An issuance JSON of a vaccination yesterday for `record`.
fn vaccination(record: &str) -> String {
    format!(
        r#"{{"type": "vaccination", "record_id": "{record}",
 "holder": {{"family_name": "Иванов", "given_name": "Иван", "birth_date": "1980-05-12",
            "document": {{"kind": "passport", "number": "4510 123789"}}}},
 "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "{}",
                 "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}}}"#,
        &common::days_ago(1)[..10]
    )
}

#[test]
fn the_portal_reads_from_a_replica() {
    if cluster("replica").is_none() {
        return;
    }
    let (primary_port, replica_port) = ("31333", "31334"); // below the ephemeral ports
    let admin = own_cluster(primary_port, "");
    let _primary = Cluster(primary_port);
    let db = fresh_database(&admin, "replica");
    // A streaming replica of the primary (the database above comes along).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-cluster.sh");
    let made = std::process::Command::new("bash")
        .arg(&script)
        .args(["replica-of", primary_port])
        .env("PG_PORT", replica_port)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let _replica = Cluster(replica_port);
    let replica_url = db.url.replace(primary_port, replica_port);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iss");
    init(&dir, Some(&db.url));
    let env = [
        PASS,
        ("PROPUSK_DATABASE_URL", db.url.as_str()),
        ("PROPUSK_READ_DATABASE_URL", replica_url.as_str()),
    ];
    let (_server, url) = start_server(&dir, &env);
    let issued = api(
        &format!("{url}/api/v1/credentials"),
        &token(&dir),
        &vaccination("REP-1"),
    );
    let id = issued["id"].as_str().unwrap().to_owned();
    // The replica answers the portal once the issuance has reached it.
    eventually("the replica serves the new credential", || {
        get(&format!("{url}/c/{id}?lang=en"))
            .1
            .contains(r#"data-verdict="valid""#)
    });
    // The replica is read-only: the lookups really are there, and it refuses a write.
    let mut replica = postgres::Client::connect(&replica_url, postgres::NoTls).unwrap();
    let seen: i64 = replica
        .query_one("SELECT count(*) FROM credentials", &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, 1);
    assert!(replica.execute("DELETE FROM credentials", &[]).is_err());
    api(
        &format!("{url}/api/v1/credentials/{id}/revoke"),
        &token(&dir),
        "",
    );
    eventually(
        "the revocation reaches the portal through the replica",
        || {
            get(&format!("{url}/c/{id}?lang=en"))
                .1
                .contains(r#"data-verdict="invalid""#)
        },
    );
}
