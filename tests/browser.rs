//! The counter app driven by a real headless Chromium, through chromedriver's
//! WebDriver HTTP API (a few raw JSON calls; no client crate needed).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages
//! `chromium` and `chromium-driver`; `scripts/test-servers.sh start` installs
//! them, and `CHROMIUM`/`CHROMEDRIVER` override the paths). Fails when missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../examples/counter.rs"]
#[allow(dead_code)]
mod counter;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_bee::config::BConfig;
use serde_json::{json, Value};

fn binary(var: &str, default: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_owned()));
    assert!(
        path.is_file(),
        "{} not found: install the Debian package `{package}` (scripts/test-servers.sh start does), \
         or point {var} at it",
        path.display()
    );
    path
}

/// One HTTP/1.1 exchange with chromedriver; returns the JSON body.
fn webdriver(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    tcp.write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    // chromedriver answers `Connection: close` but keeps the socket open:
    // read the head, then exactly Content-Length bytes.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = tcp.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("chromedriver closed the connection".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .ok_or_else(|| format!("no Content-Length in {head}"))?;
    let mut body = raw.split_off(head_end + 4);
    while body.len() < length {
        let n = tcp.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("chromedriver closed the connection early".into());
        }
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(length);
    let json = String::from_utf8(body).map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(&json).map_err(|e| format!("{e}: {json}"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("{method} {path}: {head}\n{value}"));
    }
    Ok(value["value"].clone())
}

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let exe = binary("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(exe)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .spawn()
            .expect("chromedriver should start");
        let driver = Driver { child, port };
        // Wait until it answers (bounded), instead of sleeping a fixed time.
        for _ in 0..300 {
            if let Ok(status) = webdriver(port, "GET", "/status", None) {
                if status["ready"] == json!(true) {
                    return driver;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("chromedriver did not become ready on port {port}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session with a fresh profile, closed on drop.
struct Browser {
    driver: Driver,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let chromium = binary("CHROMIUM", "/usr/bin/chromium", "chromium");
        let driver = Driver::start();
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let created = webdriver(driver.port, "POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"));
        let session = created["sessionId"].as_str().unwrap().to_owned();
        Browser {
            driver,
            session,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        webdriver(self.driver.port, method, &path, body).unwrap()
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    fn text(&self, id: &str) -> String {
        let script =
            "const e = document.getElementById(arguments[0]); return e ? e.textContent : null;";
        let value = self.call(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": [id]})),
        );
        value
            .as_str()
            .unwrap_or_else(|| panic!("no #{id} on the page"))
            .to_owned()
    }

    fn element(&self, id: &str) -> String {
        let found = self.call(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": format!("#{id}")})),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no #{id} on the page: {found}"))
            .to_owned()
    }

    /// Types `text` into the field `#id`, replacing its value.
    fn fill(&self, id: &str, text: &str) {
        let element = self.element(id);
        self.call(
            "POST",
            &format!("/element/{element}/clear"),
            Some(&json!({})),
        );
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(&json!({ "text": text })),
        );
    }

    /// Clicks `#id` and waits until the navigation it starts has loaded
    /// the next page: chromedriver's click may return before a form's
    /// POST and its redirect are done.
    fn click(&self, id: &str) {
        let element = self.element(id);
        let before = self.call("GET", "/url", None);
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(&json!({})),
        );
        let loaded = "return document.readyState === 'complete';";
        let deadline = Instant::now() + Duration::from_secs(10);
        let session = format!("/session/{}", self.session);
        let ask = |method: &str, path: &str, body: Option<&Value>| {
            // Mid-navigation chromedriver may answer with an error: not yet.
            webdriver(self.driver.port, method, &format!("{session}{path}"), body).ok()
        };
        loop {
            let moved = ask("GET", "/url", None).is_some_and(|url| url != before);
            let script = json!({"script": loaded, "args": []});
            let ready = ask("POST", "/execute/sync", Some(&script)) == Some(json!(true));
            if moved && ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "clicking #{id} loaded no new page"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn has(&self, id: &str) -> bool {
        let script = "return document.getElementById(arguments[0]) !== null;";
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": [id]})),
        ) == json!(true)
    }

    fn num(&self, base: &str) -> i64 {
        self.goto(&format!("{base}/"));
        self.text("num").trim().parse().unwrap()
    }

    fn cookie(&self, name: &str) -> Option<Value> {
        let cookies = self.call("GET", "/cookie", None);
        cookies
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == json!(name))
            .cloned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = webdriver(self.driver.port, "DELETE", &path, None);
    }
}

/// The counter on 127.0.0.1 with a free port, in its own actix system.
fn serve_counter() -> (SocketAddr, actix_web::dev::ServerHandle) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/app.conf");
            let mut config = BConfig::load_from(conf).unwrap();
            config.web_config.views_path = concat!(env!("CARGO_MANIFEST_DIR"), "/templates").into();
            let listening = counter::app(config).listen("127.0.0.1:0").await.unwrap();
            tx.send((listening.addrs()[0], listening.handle())).unwrap();
            listening.run().await.unwrap();
        });
    });
    rx.recv().expect("the counter should start")
}

#[test]
fn chromium_counts_logs_in_and_logs_out() {
    let (addr, server) = serve_counter();
    let base = format!("http://{addr}");
    let browser = Browser::start();

    assert_eq!(browser.num(&base), 0);
    assert_eq!(browser.num(&base), 1);
    assert_eq!(browser.num(&base), 2);

    let before = browser
        .cookie("beegosessionID")
        .expect("the session cookie");
    assert_eq!(before["httpOnly"], json!(true));
    assert_eq!(before["path"], json!("/"));
    assert_eq!(before["sameSite"], json!("Lax"));

    // The login form carries its XSRF token; posting it lands on / with a
    // flash message, shown once.
    browser.goto(&format!("{base}/login"));
    let xsrf = browser.cookie("_xsrf").expect("the form sets _xsrf");
    assert_eq!(xsrf["httpOnly"], json!(true));
    assert_eq!(xsrf["secure"], json!(false), "plain HTTP keeps the cookie");
    browser.fill("username", "bob");
    browser.click("submit");
    assert_eq!(browser.text("flash"), "Logged in as bob");
    assert_eq!(browser.text("user"), "Hello, bob");
    assert_eq!(browser.text("num").trim(), "3");
    assert!(
        browser.cookie("BEEGO_FLASH").is_none(),
        "the flash is read once"
    );
    let after = browser
        .cookie("beegosessionID")
        .expect("the session cookie");
    assert_ne!(
        after["value"], before["value"],
        "login must change the session id"
    );
    assert_eq!(browser.num(&base), 4);
    assert!(!browser.has("flash"), "a flash shows once");

    browser.goto(&format!("{base}/logout"));
    assert_eq!(browser.text("bye"), "Logged out");
    assert!(
        browser.cookie("beegosessionID").is_none(),
        "logout removes the cookie"
    );
    assert_eq!(browser.num(&base), 0);

    drop(browser);
    actix_rt::System::new().block_on(server.stop(true));
}
