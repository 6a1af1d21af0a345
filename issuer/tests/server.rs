//! Every route of the server through `Router::oneshot`, error paths included.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode, header};
use http_body_util::BodyExt;
use propusk_issuer::Issuer;
use propusk_issuer::server::{AppState, router};
use tower::ServiceExt;

const VACCINATION: &str = r#"{"type": "vaccination", "record_id": "R-1",
 "holder": {"family_name": "Иванов", "given_name": "Иван", "patronymic": "Иванович",
            "birth_date": "1980-05-12", "document": {"kind": "passport", "number": "4510 123789"}},
 "vaccination": {"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "DATE",
                 "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}"#;

fn vaccination() -> String {
    // A recent dose, so that the credential is valid today whenever the test runs.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let day = propusk_spec::Timestamp::from_unix(secs - 86_400)
        .unwrap()
        .date()
        .unwrap();
    VACCINATION.replace("DATE", &day.to_string())
}

struct Server {
    _tmp: tempfile::TempDir,
    state: Arc<AppState>,
    token: String,
}

fn server() -> Server {
    let tmp = tempfile::tempdir().unwrap();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let now = propusk_spec::Timestamp::from_unix(secs - 7 * 86_400).unwrap();
    let issuer = Issuer::init(
        tmp.path(),
        "Минздрав России",
        "RU",
        Some("https://portal.example"),
        "Europe/Moscow",
        "pass phrase 12",
        now,
    )
    .unwrap();
    let token = std::fs::read_to_string(tmp.path().join("operator.token"))
        .unwrap()
        .trim()
        .to_owned();
    let state = AppState::new(tmp.path(), issuer, propusk_issuer::server::PORTAL_RATE).unwrap();
    Server {
        _tmp: tmp,
        state,
        token,
    }
}

async fn send(
    s: &Server,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = HttpRequest::builder().method(method).uri(uri);
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = router(s.state.clone())
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn health_and_the_trust_bundle_with_etags() {
    let s = server();
    assert_eq!(
        send(&s, "GET", "/healthz", None, &[], "").await.0,
        StatusCode::OK
    );
    let (status, headers, _) = send(&s, "GET", "/bundle/index.cbor", None, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let (status, headers, body) = send(
        &s,
        "GET",
        "/bundle/index.cbor",
        None,
        &[("if-none-match", &etag)],
        "",
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_MODIFIED, ""));
    assert_eq!(headers[header::ETAG], etag.as_str());
    let name = std::fs::read_dir(s._tmp.path().join("published"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("bundle-"))
        .unwrap();
    let (status, headers, _) = send(&s, "GET", &format!("/bundle/{name}"), None, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(
        send(&s, "GET", "/bundle/nothing.cbor", None, &[], "")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&s, "GET", "/bundle/..%2Fissuer.sqlite", None, &[], "")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_api_needs_the_token_and_changes_nothing_without_it() {
    let s = server();
    for token in [None, Some("wrong"), Some("")] {
        let (status, _, body) = send(
            &s,
            "POST",
            "/api/v1/credentials",
            token,
            &[],
            &vaccination(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(body.contains("\"unauthorized\""));
        assert_eq!(
            send(&s, "POST", "/api/v1/keys/rotate", token, &[], "")
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, _, _) = send(&s, "GET", "/api/v1/issuance/R-1", Some(&s.token), &[], "").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing was issued by the refused calls"
    );
}

#[tokio::test]
async fn issue_look_up_revoke_and_rotate() {
    let s = server();
    let t = Some(s.token.as_str());
    let (status, _, body) = send(&s, "POST", "/api/v1/credentials", t, &[], &vaccination()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let issued: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = issued["id"].as_str().unwrap().to_owned();
    assert!(issued["credential"].as_str().unwrap().starts_with("PR2:"));
    assert_eq!(issued["link"], format!("https://portal.example/c/{id}"));
    // The full record comes back beside the credential, for the holder's paper copy (the
    // credential itself carries initials and the masked passport only).
    assert_eq!(issued["holder"]["family_name"], "Иванов", "{issued}");
    assert_eq!(
        issued["holder"]["document"]["number"], "4510 123789",
        "{issued}"
    );
    let credential = issued["credential"].as_str().unwrap();
    let claims = propusk_spec::decode(credential).unwrap();
    let door = serde_json::to_string(&claims.unverified_claims()).unwrap();
    assert!(
        !door.contains("Иванов") && !door.contains("123789"),
        "{door}"
    );
    // And not without the operator's token: the portal's answers carry the door form only.
    let (_, _, page) = send(&s, "GET", &format!("/c/{id}"), None, &[], "").await;
    assert!(
        !page.contains("Иванов") && !page.contains("123789"),
        "{page}"
    );
    let (_, _, text) = send(&s, "GET", &format!("/c/{id}/credential"), None, &[], "").await;
    assert_eq!(text.trim(), credential);

    let (status, _, body) = send(&s, "GET", "/api/v1/issuance/R-1", t, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let record: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            record["id"].as_str(),
            record["status"].as_str(),
            record["issued"].as_bool()
        ),
        (Some(id.as_str()), Some("issued"), Some(true))
    );
    assert!(
        !body.contains("PR2:") && !body.contains("Иванов"),
        "no personal data: {body}"
    );

    // Errors come back as JSON with a stable code.
    let (status, _, body) = send(
        &s,
        "POST",
        "/api/v1/credentials",
        t,
        &[],
        "{\"type\": \"vaccination\"}",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("\"bad_input\"") && body.contains("holder"),
        "{body}"
    );
    let (status, _, body) = send(
        &s,
        "POST",
        "/api/v1/credentials",
        t,
        &[],
        &vaccination()
            .replace("\"dose\": 2", "\"dose\": 1")
            .replace("R-1", "R-2"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("\"refused\"") && body.contains("course not complete"),
        "{body}"
    );
    assert_eq!(
        send(
            &s,
            "POST",
            "/api/v1/credentials/not-an-id/revoke",
            t,
            &[],
            ""
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let unknown = propusk_spec::CredentialId::from_bytes([7; 12]).to_string();
    assert_eq!(
        send(
            &s,
            "POST",
            &format!("/api/v1/credentials/{unknown}/revoke"),
            t,
            &[],
            ""
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(
            &s,
            "POST",
            "/api/v1/keys/rotate",
            t,
            &[],
            "{\"announce\": 5}"
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    // The portal shows it valid, in both languages, masked.
    let (status, _, page) = send(&s, "GET", &format!("/c/{id}?lang=en"), None, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Certificate valid")
            && page.contains("И. И. И.")
            && page.contains("45** ***789")
            && page.contains("12 May 1980"),
        "{page}"
    );
    assert!(
        page.contains(r#"data-verdict="valid" data-reason="""#),
        "the status element carries the verdict for scripts: {page}"
    );
    assert!(
        page.contains(" (Moscow)"),
        "valid until in the jurisdiction's time: {page}"
    );
    assert!(
        !page.contains("Иванов") && !page.contains("123789") && !page.contains("IVANOV"),
        "{page}"
    );
    let (_, _, page) = send(
        &s,
        "GET",
        &format!("/c/{id}"),
        None,
        &[("accept-language", "ru-RU,ru;q=0.9")],
        "",
    )
    .await;
    assert!(
        page.contains("Сертификат действителен")
            && page.contains("lang=\"ru\"")
            && page.contains("Действителен до"),
        "{page}"
    );
    // The short link's credential, for a wallet.
    let (status, _, text) = send(&s, "GET", &format!("/c/{id}/credential"), None, &[], "").await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, issued["credential"].as_str().unwrap())
    );
    assert_eq!(
        send(&s, "GET", "/c/XYZ/credential", None, &[], "").await.0,
        StatusCode::NOT_FOUND
    );

    let (status, _, body) = send(
        &s,
        "POST",
        &format!("/api/v1/credentials/{id}/revoke"),
        t,
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"revoked\""));
    let (_, _, page) = send(&s, "GET", &format!("/c/{id}?lang=ru"), None, &[], "").await;
    assert!(page.contains("Сертификат отозван"), "{page}");
    assert!(
        page.contains(r#"data-verdict="invalid" data-reason="revoked""#),
        "{page}"
    );
    // No validity date under a revoked certificate (issue 22).
    assert!(!page.contains("Действителен до"), "{page}");

    let (status, _, body) = send(&s, "POST", "/api/v1/keys/rotate", t, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"active\""));
}

#[tokio::test]
async fn unknown_and_mistyped_ids_get_the_same_page_and_lookups_are_rate_limited() {
    let s = server();
    let unknown = propusk_spec::CredentialId::from_bytes([9; 12]).to_string();
    let mut typo: Vec<char> = unknown.chars().collect();
    typo[3] = if typo[3] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let (a_status, _, a) = send(&s, "GET", &format!("/c/{unknown}?lang=en"), None, &[], "").await;
    let (b_status, _, b) = send(&s, "GET", &format!("/c/{typo}?lang=en"), None, &[], "").await;
    assert_eq!(
        (a_status, b_status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(a, b, "no hint whether a nearby id exists");
    assert!(a.contains("Certificate not found"));
    let mut last = StatusCode::OK;
    for _ in 0..40 {
        last = send(&s, "GET", &format!("/c/{unknown}"), None, &[], "")
            .await
            .0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn pages_carry_security_headers_and_bad_bodies_get_json_errors() {
    let s = server();
    let (status, headers, page) = send(&s, "GET", "/c/XYZ?lang=en", None, &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    // No inline code: the page loads this server's own style sheet and script.
    assert!(
        !page.contains("<script>") && !page.contains("<style>"),
        "{page}"
    );
    for (file, kind) in [("portal.js", "text/javascript"), ("portal.css", "text/css")] {
        let (status, headers, body) =
            send(&s, "GET", &format!("/static/{file}"), None, &[], "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert!(!body.is_empty());
    }
    // A body that is not UTF-8, or too large, is answered in the API's JSON.
    let t = Some(s.token.as_str());
    let request = HttpRequest::builder()
        .method("POST")
        .uri("/api/v1/credentials")
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .body(Body::from(vec![0xFF, 0xFE, b'{']))
        .unwrap();
    let response = router(s.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&bytes).contains("\"bad_input\""));
    let huge = "x".repeat(3 << 20);
    let (status, _, body) = send(&s, "POST", "/api/v1/credentials", t, &[], &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("\"too_large\""), "{body}");
}

/// A client that opens a connection and trickles its headers (slow loris), or keeps a
/// connection alive and sends nothing more, is closed after the header timeout, while others
/// are served.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_headers_is_closed() {
    use std::io::{Read, Write};
    let s = server();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(propusk_issuer::server::serve_listener_with(
        s.state.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
        std::time::Duration::from_millis(500),
    ));
    let clients = tokio::task::spawn_blocking(move || {
        let mut slow = std::net::TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        // Meanwhile a whole request is answered.
        let mut quick = std::net::TcpStream::connect(addr).unwrap();
        quick
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        quick.read_to_string(&mut answer).unwrap();
        // A kept-alive connection that asked once and then says nothing is closed too.
        let mut idle = std::net::TcpStream::connect(addr).unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        idle.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut idle_answer = Vec::new();
        let idle_ended = idle.read_to_end(&mut idle_answer);
        assert!(idle_answer.starts_with(b"HTTP/1.1 200"));
        assert!(
            idle_ended.is_ok(),
            "the idle connection stayed open: {idle_ended:?}"
        );
        // The slow one is closed: its read ends (bounded, so a regression fails, not hangs).
        slow.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut rest = Vec::new();
        let ended = slow.read_to_end(&mut rest);
        (answer, ended.map_err(|e| e.kind()))
    });
    let (answer, ended) = clients.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !matches!(
            ended,
            Err(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
        ),
        "the connection stayed open: {ended:?}"
    );
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}

/// An authenticated client that sends its headers and then stalls or trickles its body is
/// answered 408 and closed at the timeout (review 3, F13); a whole body is served as before.
#[tokio::test(flavor = "multi_thread")]
async fn an_authenticated_body_that_never_arrives_is_answered_408() {
    use std::io::{Read, Write};
    let s = server();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(propusk_issuer::server::serve_listener_with(
        s.state.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
        std::time::Duration::from_millis(500),
    ));
    let token = s.token.clone();
    let answers = tokio::task::spawn_blocking(move || {
        let head = format!(
            "POST /api/v1/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
        );
        let mut stalled = std::net::TcpStream::connect(addr).unwrap();
        stalled.write_all(head.as_bytes()).unwrap();
        let mut dripping = std::net::TcpStream::connect(addr).unwrap();
        dripping.write_all(head.as_bytes()).unwrap();
        for _ in 0..8 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let _ = dripping.write_all(b" ");
        }
        [stalled, dripping].map(|mut c| {
            c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let mut answer = Vec::new();
            let ended = c.read_to_end(&mut answer);
            (String::from_utf8_lossy(&answer).into_owned(), ended.is_ok())
        })
    });
    for (answer, closed) in answers.await.unwrap() {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"timeout\""), "{answer}");
        assert!(closed, "the connection stayed open");
    }
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}
