//! A real headless Chromium driven through chromedriver's WebDriver HTTP interface (plain JSON
//! over ureq, no client library): pages loaded, scripts run in them, clicks, screenshots.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// Chromium's flags for a headless run on a machine with no network beyond loopback (without
/// the background-networking ones, it tries Google's hosts at every start).
pub(crate) const HEADLESS: [&str; 9] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// The browser and its driver, or `None` (with a message) where they are not installed; with
/// `PROPUSK_REQUIRE_TOOLS` set, their absence fails the test.
pub(crate) fn available(test: &str) -> bool {
    let found = ["/usr/bin/chromium", "/usr/bin/chromedriver"]
        .iter()
        .all(|p| std::path::Path::new(p).exists());
    if !found {
        assert!(
            std::env::var("PROPUSK_REQUIRE_TOOLS").is_err(),
            "PROPUSK_REQUIRE_TOOLS is set but chromium or chromedriver is missing"
        );
        eprintln!(
            "{test}: no chromium and chromedriver here: skipped (apt-get install chromium chromium-driver)"
        );
    }
    found
}

pub(crate) struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Headless Chromium with `args` besides the usual ones (a fake camera, say).
    pub(crate) fn start(args: &[String]) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let mut all: Vec<String> = HEADLESS.iter().map(|s| s.to_string()).collect();
        all.push("--window-size=480,900".into());
        all.push(format!("--user-data-dir={}", profile.path().display()));
        all.extend(args.iter().cloned());
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            agent,
            _profile: profile,
        };
        let created = browser.send(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": all},
            }}}),
        );
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    fn send(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let mut response = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string().as_bytes()),
        }
        .unwrap();
        let value: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        value["value"].clone()
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.send(method, &format!("/session/{}{path}", self.session), body)
    }

    pub(crate) fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({"url": url}));
    }

    /// Runs `body` (a function body: `return …`) in the page.
    pub(crate) fn eval(&self, body: &str) -> Value {
        self.command("POST", "/execute/sync", json!({"script": body, "args": []}))
    }

    /// Polls `expression` in the page until it is truthy (20 s at most); its value.
    pub(crate) fn wait(&self, expression: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.eval(&format!(
                "try {{ return ({expression}); }} catch (e) {{ return null; }}"
            ));
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "never: {what} (page: {})",
                self.eval("return document.body ? document.body.innerText : ''")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn click(&self, selector: &str) {
        let clicked = self.eval(&format!(
            "const el = document.querySelector({selector:?}); if (!el) return false; el.click(); return true;"
        ));
        assert_eq!(clicked, json!(true), "nothing to click at {selector}");
    }

    /// A Chrome DevTools Protocol command on the page (chromedriver's `goog/cdp/execute`).
    pub(crate) fn cdp(&self, command: &str, params: Value) -> Value {
        self.command(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": command, "params": params}),
        )
    }

    /// The page as a PNG.
    pub(crate) fn screenshot(&self) -> Vec<u8> {
        let png = self.command("GET", "/screenshot", json!({}));
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A `.y4m` video (what Chromium's fake camera plays, looped) of `luma` (`width` × `height`)
/// centred on a white 640×480 frame, a few frames long.
pub(crate) fn y4m(luma: &[u8], width: usize, height: usize) -> Vec<u8> {
    let (w, h) = (640usize, 480usize);
    assert!(width <= w && height <= h, "the picture must fit the frame");
    let mut y = vec![255u8; w * h];
    let (x0, y0) = ((w - width) / 2, (h - height) / 2);
    for row in 0..height {
        y[(y0 + row) * w + x0..(y0 + row) * w + x0 + width]
            .copy_from_slice(&luma[row * width..(row + 1) * width]);
    }
    let mut out = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..5 {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&y);
        out.extend(std::iter::repeat_n(128u8, w * h / 2));
    }
    out
}
