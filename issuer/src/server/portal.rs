//! The portal page behind link-form QR codes: the certificate's status and only what matches an
//! ID document (initials, date of birth, the masked document), in Russian or English, in the
//! jurisdiction's local time; and the credential text behind a short link, for wallets. Lookups
//! go through the store's concurrent reads, rate-limited per client address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::extract::{ConnectInfo, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use propusk_spec::{CredentialId, decode};
use propusk_trust_list::{Lang, Reason, Verdict, words};
use serde::Deserialize;

use super::api::RETRY_AFTER_S;
use super::{ApiError, AppState, blocking};
use crate::records::CredentialStatus;
use crate::store::CredentialRecord;

#[derive(Deserialize)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

fn language(query: &LangQuery, headers: &HeaderMap) -> Lang {
    match query.lang.as_deref() {
        Some(l) => Lang::from_preference(l),
        None => Lang::from_preference(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ),
    }
}

/// `s` for HTML text and quoted attributes, in one pass (a page has a dozen of them).
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The page's own words (its chrome); the status, reasons and types come from
/// [`propusk_trust_list::words`].
struct Chrome {
    labels: [&'static str; 5],
    match_note: &'static str,
    not_found: (&'static str, &'static str),
    too_many: (&'static str, &'static str),
    unavailable: (&'static str, &'static str),
    fragment: &'static str,
    /// The in-browser check of the signed certificate in the link: while it runs, its label.
    offline: (&'static str, &'static str),
    /// The offer to keep the certificate in the web app's wallet on this phone.
    save: &'static str,
    other: (&'static str, &'static str),
}

fn chrome(lang: Lang) -> Chrome {
    match lang {
        Lang::En => Chrome {
            labels: ["Type", "Valid until", "Holder", "Date of birth", "Document"],
            match_note: "Match the initials, date of birth and number against the identity document.",
            not_found: (
                "Certificate not found",
                "Check the link: there is no such certificate, or the address has a typo.",
            ),
            too_many: ("Too many requests", "Wait a minute and try again."),
            unavailable: (
                "Cannot check right now",
                "The issuer's service is briefly unavailable: try again in a few seconds.",
            ),
            fragment: "This link also carries the signed certificate itself: a verifier app checks it offline.",
            offline: (
                "Checking the signed certificate in this browser…",
                "The signed certificate, checked in this browser",
            ),
            save: "Keep it in the wallet on this phone",
            other: ("?lang=ru", "Русский"),
        },
        Lang::Ru => Chrome {
            labels: [
                "Тип",
                "Действителен до",
                "Владелец",
                "Дата рождения",
                "Документ",
            ],
            match_note: "Сверьте инициалы, дату рождения и номер с документом, удостоверяющим личность.",
            not_found: (
                "Сертификат не найден",
                "Проверьте ссылку: такого сертификата нет, или в адресе опечатка.",
            ),
            too_many: (
                "Слишком много запросов",
                "Подождите минуту и попробуйте снова.",
            ),
            unavailable: (
                "Сейчас проверить нельзя",
                "Служба выдавшего органа ненадолго недоступна: попробуйте через несколько секунд.",
            ),
            fragment: "Эта ссылка содержит сам подписанный сертификат: приложение проверяющего проверит его без сети.",
            offline: (
                "Подписанный сертификат проверяется в этом браузере…",
                "Подписанный сертификат, проверенный в этом браузере",
            ),
            save: "Сохранить в кошелёк на этом телефоне",
            other: ("?lang=en", "English"),
        },
    }
}

struct Page<'a> {
    lang: Lang,
    status: StatusCode,
    verdict: Verdict,
    reason: Option<Reason>,
    title: &'a str,
    rows: &'a [(&'a str, String)],
    note: &'a str,
}

fn render(p: &Page<'_>) -> Response {
    let c = chrome(p.lang);
    let rows: String = p
        .rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v)))
        .collect();
    let verdict = p.verdict.as_str();
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<link rel=\"stylesheet\" href=\"/static/portal.css\"></head><body>\
<div class=\"status {verdict}\" id=\"status\" data-verdict=\"{verdict}\" data-reason=\"{reason}\">{title}</div>\
<table>{rows}</table><p id=\"note\" data-fragment=\"{fragment}\">{note}</p>\
<div class=\"offline\" id=\"offline\" data-offline-verdict=\"\" data-reason=\"\" data-lang=\"{lang}\" \
data-checking=\"{checking}\" data-label=\"{checked}\" hidden></div>\
<p><a id=\"save\" href=\"/app/?mode=wallet\" hidden>{save}</a></p>\
<p><a id=\"lang\" href=\"{href}\">{label}</a></p><script type=\"module\" src=\"/static/portal.js\"></script>\
</body></html>",
        lang = p.lang.tag(),
        reason = p.reason.map_or("", |r| r.code()),
        title = escape(p.title),
        note = escape(p.note),
        href = c.other.0,
        label = c.other.1,
        fragment = escape(c.fragment),
        checking = escape(c.offline.0),
        checked = escape(c.offline.1),
        save = escape(c.save),
    );
    let mut response = (p.status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn client(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    connect.map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.0.ip())
}

impl AppState {
    fn allow(&self, ip: IpAddr) -> bool {
        self.limiter
            .lock()
            .map(|mut l| l.allow(ip, Instant::now()))
            .unwrap_or(false)
    }

    /// The stored credential with this id, read on the blocking pool.
    async fn look_up(
        self: &Arc<Self>,
        id: CredentialId,
    ) -> Result<Option<CredentialRecord>, ApiError> {
        let (sender, answer) = tokio::sync::oneshot::channel();
        let reply = Box::new(move |a| {
            // The request may have gone (its connection closed): nothing to do then.
            let _ = sender.send(a);
        });
        match self.lookup.gather(&id, reply) {
            Ok(()) => Ok(answer
                .await
                .map_err(|_| ApiError::Internal("a lookup went unanswered".into()))??),
            Err(_) => {
                let lookup = self.lookup.clone();
                blocking(move || Ok(lookup.credential(&id)?)).await
            }
        }
    }
}

/// `GET /static/{file}`: the portal's style sheet and script (no inline code: the pages' content
/// security policy allows only what this server serves).
pub(crate) async fn asset(UrlPath(file): UrlPath<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "portal.css" => (
            include_str!("../../static/portal.css"),
            "text/css; charset=utf-8",
        ),
        "portal.js" => (
            include_str!("../../static/portal.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// `GET /c/{id}`: the portal page.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let lang = language(&query, &headers);
    let c = chrome(lang);
    let bare = |status, (title, note): (&str, &str)| {
        render(&Page {
            lang,
            status,
            verdict: Verdict::Unknown,
            reason: None,
            title,
            rows: &[],
            note,
        })
    };
    if !state.allow(client(connect)) {
        super::metrics::RATE_LIMITED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return bare(StatusCode::TOO_MANY_REQUESTS, c.too_many);
    }
    let Ok(id) = id.parse::<CredentialId>() else {
        return bare(StatusCode::NOT_FOUND, c.not_found);
    };
    let record = match state.look_up(id).await {
        Ok(Some(record)) => record,
        Ok(None) => return bare(StatusCode::NOT_FOUND, c.not_found),
        // The database is down: "try again", never a wrong "not found".
        Err(ApiError::Unavailable) => {
            let mut page = bare(StatusCode::SERVICE_UNAVAILABLE, c.unavailable);
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
            return page;
        }
        Err(e) => return e.into_response(),
    };
    let Ok(decoded) = decode(&record.text) else {
        tracing::error!("a stored credential does not decode");
        return ApiError::Internal("stored credential".into()).into_response();
    };
    let claims = decoded.unverified_claims();
    if record.id != id || claims.id != id {
        // A row whose text is another credential's (written into the database by hand): never
        // shown, nor anyone's data in it.
        tracing::error!("a stored row holds another credential's text");
        let title = words::certificate_title(Verdict::Invalid, Some(Reason::Corrupt), lang);
        return render(&Page {
            lang,
            status: StatusCode::OK,
            verdict: Verdict::Invalid,
            reason: Some(Reason::Corrupt),
            title: &title,
            rows: &[],
            note: c.not_found.1,
        });
    }
    // The verifiers' engine and trust data (the publication served) judge it; a revocation the
    // issuer has recorded, published or not, shows at once (and needs no signature checked).
    let (verdict, reason, valid_until) = match record.status {
        CredentialStatus::Revoked { .. } => {
            (Verdict::Invalid, Some(Reason::Revoked), claims.expires_at)
        }
        CredentialStatus::Issued => {
            let text = (record.text.as_str(), &decoded);
            let judged = state.judge(
                &record.id,
                text,
                (record.proof.as_deref(), record.holder.as_deref()),
            );
            let until = judged.valid_until.unwrap_or(claims.expires_at);
            (judged.verdict, judged.reason, until)
        }
    };
    // The jurisdiction's local time, as people there read their clocks.
    let locale = propusk_trust_list::Locale {
        lang,
        tz: state.time_zone.clone(),
    };
    let mut rows = vec![(
        c.labels[0],
        words::credential_type_title(claims.credential_type(), lang).to_owned(),
    )];
    // A validity date under a certificate that is not valid (revoked, refused) misleads.
    if verdict == Verdict::Valid {
        rows.push((c.labels[1], locale.time(valid_until)));
    }
    rows.extend([
        (c.labels[2], claims.holder.initials.to_string()),
        (c.labels[3], locale.birth_date(&claims.holder.birth_date)),
        (c.labels[4], claims.holder.document.masked().to_owned()),
    ]);
    let title = words::certificate_title(verdict, reason, lang);
    render(&Page {
        lang,
        status: StatusCode::OK,
        verdict,
        reason,
        title: &title,
        rows: &rows,
        note: c.match_note,
    })
}

/// `GET /c/{id}/credential`: the credential text behind a short link, for a wallet that adds
/// the link. The id is the secret (96 random bits), so whoever holds the link may have its
/// credential. Rate-limited like the page; unknown and mistyped ids both get a plain 404.
pub(crate) async fn credential(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    if !state.allow(client(connect)) {
        super::metrics::RATE_LIMITED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return (StatusCode::TOO_MANY_REQUESTS, "too many requests").into_response();
    }
    let Ok(id) = id.parse::<CredentialId>() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match state.look_up(id).await {
        // Only the text of the credential asked for (a row may hold another's).
        Ok(Some(record)) if record.id == id && holds(&record.text, id) => {
            let mut response = (StatusCode::OK, record.text).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => e.into_response(),
    }
}

/// Whether `text` is the credential with this id.
fn holds(text: &str, id: CredentialId) -> bool {
    decode(text).is_ok_and(|d| d.unverified_claims().id == id)
}

/// `GET /`: what this server is and what it serves, for someone who opens its address.
pub(crate) async fn home(
    State(state): State<Arc<AppState>>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let name = state
        .issuer()
        .map(|i| i.settings().name.clone())
        .unwrap_or_default();
    let (title, lines, other) = match lang {
        Lang::En => (
            "Propusk: health certificates",
            [
                "This server belongs to the issuing authority named above.",
                "A certificate's QR code opens its page here: /c/ID shows whether it is valid.",
                "Verifiers take the signed trust data from /bundle/index.cbor (propusk verifier sync --url).",
                "The operator API (/api/v1/…) needs the operator's token.",
            ],
            ("?lang=ru", "Русский"),
        ),
        Lang::Ru => (
            "Пропуск: медицинские сертификаты",
            [
                "Этот сервер принадлежит указанному выше выдавшему органу.",
                "QR-код сертификата открывает здесь его страницу: /c/ID показывает, действителен ли он.",
                "Проверяющие получают подписанные данные проверки из /bundle/index.cbor (propusk verifier sync --url).",
                "API оператора (/api/v1/…) требует токена оператора.",
            ],
            ("?lang=en", "English"),
        ),
    };
    let items: String = lines
        .iter()
        .map(|l| format!("<li>{}</li>", escape(l)))
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<link rel=\"stylesheet\" href=\"/static/portal.css\"></head><body>\
<h1 id=\"issuer\">{name}</h1><p>{title}</p><ul>{items}</ul>\
<p><a id=\"lang\" href=\"{href}\">{label}</a></p></body></html>",
        lang = lang.tag(),
        title = escape(title),
        name = escape(&name),
        href = other.0,
        label = other.1,
    );
    (
        [(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        )],
        Html(html),
    )
        .into_response()
}
