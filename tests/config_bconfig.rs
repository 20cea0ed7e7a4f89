//! BConfig: beego's defaults, layering, run modes and the ManagerConfig binding.

// Tests state their expectations with unwrap and panic, as the house rules allow.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

use actix_bee::config::{BConfig, Error, Listen, Loader, SessionConfig};
use actix_bee::session::{HashFunc, SameSite};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conf")
}

/// A loader that never sees the process environment, so parallel tests cannot interfere.
fn isolated() -> Loader {
    Loader::new().with_env_vars(Vec::<(String, String)>::new())
}

fn load(text: &str) -> BConfig {
    isolated().load_str(text, fixtures()).unwrap()
}

thread_local! {
    static LOGS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Sends log lines to the calling thread's buffer: each test runs on its own thread.
struct ThreadLogs;

impl Write for ThreadLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.with(|l| l.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` and returns what it logged at WARN and above.
///
/// One global subscriber rather than `with_default` per test: tracing caches
/// per-callsite interest globally, and a test thread without a subscriber can
/// make another thread's scoped subscriber miss events.
fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| ThreadLogs)
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .try_init();
    });
    LOGS.with(|l| l.borrow_mut().clear());
    let out = f();
    let logs = LOGS.with(|l| String::from_utf8_lossy(&l.borrow()).into_owned());
    (out, logs)
}

#[test]
fn defaults_match_beego() {
    let c = BConfig::default();
    assert_eq!(c.app_name, "beego");
    assert_eq!(c.run_mode, "prod");
    assert!(c.router_case_sensitive && c.recover_panic && c.enable_errors_show);
    assert_eq!((c.max_memory, c.max_upload_size), (1 << 26, 1 << 30));
    assert_eq!(c.listen.http_addr, "");
    assert_eq!(c.listen.http_port, 8080);
    assert!(!c.listen.enable_https && c.listen.enable_http);
    assert_eq!((c.listen.https_port, c.listen.admin_port), (10443, 8088));
    assert_eq!((c.listen.server_timeout, c.listen.client_auth), (0, 4));
    let w = &c.web_config;
    assert_eq!(w.views_path, "views");
    assert_eq!(
        (w.template_left.as_str(), w.template_right.as_str()),
        ("{{", "}}")
    );
    assert!(w.auto_render && !w.enable_xsrf);
    assert_eq!(
        w.static_dir.get("/static").map(String::as_str),
        Some("static")
    );
    assert_eq!(w.static_extensions_to_gzip, [".css", ".js"]);
    let s = &w.session;
    assert!(!s.session_on);
    assert_eq!(s.session_provider, "memory");
    assert_eq!(s.session_name, "beegosessionID");
    assert_eq!(s.session_gc_max_lifetime, 3600);
    assert_eq!(s.session_provider_config, "");
    assert_eq!(s.session_cookie_lifetime, 0);
    assert!(s.session_auto_set_cookie);
    assert_eq!(s.session_domain, "");
    assert!(!s.session_disable_http_only);
    assert!(!s.session_enable_sid_in_http_header);
    assert_eq!(s.session_name_in_http_header, "Beegosessionid");
    assert!(!s.session_enable_sid_in_url_query);
    assert_eq!(s.session_cookie_same_site, "1");
    assert_eq!(s.session_id_prefix, "");
    assert_eq!(s.session_hash_func, "sha1");
    assert_eq!(s.session_hash_key, "");
    assert_eq!(s.session_config, "");
    assert_eq!(s.session_max_lifetime, 0);
    assert_eq!(s.session_absolute_lifetime, 86400);
    assert!(!s.session_secure && !s.session_trust_proxy);
    assert_eq!(s.session_id_length, 16);
    assert_eq!(c.log.outputs.get("console").map(String::as_str), Some(""));
}

#[test]
fn empty_text_gives_defaults() {
    assert_eq!(load(""), BConfig::default());
}

#[test]
fn missing_file_gives_defaults() {
    let cfg = isolated()
        .load_from(fixtures().join("does-not-exist.conf"))
        .unwrap();
    assert_eq!(cfg, BConfig::default());
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(isolated().load_in(dir.path()).unwrap(), BConfig::default());
}

#[test]
fn missing_include_is_still_an_error() {
    let err = isolated()
        .load_str("include gone.conf", fixtures())
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}

#[test]
fn counter_app_conf_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/app.conf");
    let cfg = isolated().load_from(path).unwrap();
    assert_eq!(cfg.app_name, "counter");
    assert_eq!(cfg.run_mode, "dev");
    assert_eq!(
        (cfg.listen.http_addr.as_str(), cfg.listen.http_port),
        ("127.0.0.1", 8080)
    );
    assert_eq!(cfg.web_config.views_path, "templates");
    let s = &cfg.web_config.session;
    assert!(s.session_on);
    assert_eq!(s.session_provider, "memory");
    assert_eq!(s.session_name, "beegosessionID");
    assert_eq!(s.session_gc_max_lifetime, 3600);
    assert_eq!(s.session_provider_config, "");
    let m = cfg.session_manager_config().unwrap();
    assert_eq!(m.gc_lifetime, 3600);
}

#[test]
fn every_session_key_maps_to_its_field() {
    let cfg = load(
        "SessionOn = true
sessionprovider = file
sessionname = sid
sessiongcmaxlifetime = 120
sessionproviderconfig = ./tmp/sessions
sessioncookielifetime = 60
sessionautosetcookie = false
sessiondomain = example.com
sessiondisablehttponly = true
sessionenablesidinhttpheader = true
sessionnameinhttpheader = X-Sid
sessionenablesidinurlquery = true
sessioncookiesamesite = strict
sessionidprefix = pfx_
sessionhashfunc = none
sessionhashkey = k
sessionconfig =
sessionmaxlifetime = 90
sessionabsolutelifetime = 600
sessionsecure = true
sessiontrustproxy = true
sessionidlength = 32
",
    );
    let s = &cfg.web_config.session;
    assert!(s.session_on);
    assert_eq!(s.session_provider, "file");
    assert_eq!(s.session_name, "sid");
    assert_eq!(s.session_gc_max_lifetime, 120);
    assert_eq!(s.session_provider_config, "./tmp/sessions");
    assert_eq!(s.session_cookie_lifetime, 60);
    assert!(!s.session_auto_set_cookie);
    assert_eq!(s.session_domain, "example.com");
    assert!(s.session_disable_http_only);
    assert!(s.session_enable_sid_in_http_header);
    assert_eq!(s.session_name_in_http_header, "X-Sid");
    assert!(s.session_enable_sid_in_url_query);
    assert_eq!(s.session_cookie_same_site, "strict");
    assert_eq!(s.session_id_prefix, "pfx_");
    assert_eq!(s.session_hash_func, "none");
    assert_eq!(s.session_hash_key, "k");
    assert_eq!(s.session_config, "");
    assert_eq!(s.session_max_lifetime, 90);
    assert_eq!(s.session_absolute_lifetime, 600);
    assert!(s.session_secure && s.session_trust_proxy);
    assert_eq!(s.session_id_length, 32);
}

#[test]
fn app_listen_web_and_log_keys_map() {
    let cfg = load(
        "appname = a\nhttpaddr = 0.0.0.0\nhttpport = 9000\nenablehttps = on\nhttpsport = 9443\n\
         servertimeout = 30\ndomains = a.com;b.com\nviewspath = tpl\ntemplateleft = <<\n\
         templateright = >>\nautorender = n\nenablexsrf = Y\nstaticdir = public /img:images\n\
         staticextensionstogzip = css,js,.svg\nlogoutputs = file,{\"filename\":\"x.log\"}\n\
         maxmemory = 1024\n",
    );
    assert_eq!(cfg.app_name, "a");
    assert_eq!(cfg.listen.http_addr, "0.0.0.0");
    assert_eq!((cfg.listen.http_port, cfg.listen.https_port), (9000, 9443));
    assert!(cfg.listen.enable_https);
    assert_eq!(cfg.listen.server_timeout, 30);
    assert_eq!(cfg.listen.domains, ["a.com", "b.com"]);
    let w = &cfg.web_config;
    assert_eq!(w.views_path, "tpl");
    assert_eq!(
        (w.template_left.as_str(), w.template_right.as_str()),
        ("<<", ">>")
    );
    assert!(!w.auto_render && w.enable_xsrf);
    assert_eq!(w.static_dir.len(), 2);
    assert_eq!(
        w.static_dir.get("/public").map(String::as_str),
        Some("public")
    );
    assert_eq!(w.static_dir.get("/img").map(String::as_str), Some("images"));
    assert_eq!(w.static_extensions_to_gzip, [".css", ".js", ".svg"]);
    assert_eq!(cfg.log.outputs.len(), 1);
    assert_eq!(cfg.max_memory, 1024);
}

#[test]
fn runmode_defaults_to_prod() {
    assert_eq!(load("appname = x").run_mode, "prod");
}

#[test]
fn prod_section_runmode_wins_over_default_section() {
    assert_eq!(
        load("runmode = dev\n[prod]\nrunmode = test\n").run_mode,
        "test"
    );
}

#[test]
fn dev_overlay_wins_when_runmode_is_dev() {
    let cfg = isolated()
        .load_from(fixtures().join("overlay.conf"))
        .unwrap();
    assert_eq!(cfg.run_mode, "dev");
    let s = &cfg.web_config.session;
    assert_eq!(s.session_name, "devname");
    assert_eq!(s.session_gc_max_lifetime, 200);
    assert!(s.session_on);
}

#[test]
fn dev_overlay_empty_string_does_not_override() {
    let cfg = isolated()
        .load_from(fixtures().join("overlay.conf"))
        .unwrap();
    assert_eq!(cfg.app_name, "base");
}

#[test]
fn dev_overlay_bad_int_falls_back_to_default_section() {
    let (cfg, logs) = capture_logs(|| {
        isolated()
            .load_from(fixtures().join("overlay.conf"))
            .unwrap()
    });
    assert_eq!(cfg.listen.http_port, 8000);
    assert!(
        logs.contains("httpport") && logs.contains("notanumber"),
        "{logs}"
    );
    assert!(logs.contains("overlay.conf:10"), "{logs}");
}

#[test]
fn overlay_is_not_applied_for_another_runmode() {
    let cfg = load("sessionname = base\n[dev]\nsessionname = devname\n");
    assert_eq!(cfg.web_config.session.session_name, "base");
    let cfg = load("sessionname = base\n[prod]\nsessionname = prodname\n");
    assert_eq!(cfg.web_config.session.session_name, "prodname");
}

#[test]
fn runmode_section_name_is_case_insensitive() {
    let cfg = load("runmode = Dev\n[DEV]\nhttpport = 1234\n");
    assert_eq!(cfg.run_mode, "Dev");
    assert_eq!(cfg.listen.http_port, 1234);
}

#[test]
fn env_runmode_overrides_and_selects_the_overlay() {
    let cfg = Loader::new()
        .with_env_vars([("BEEGO_RUNMODE", "dev")])
        .load_str("runmode = prod\nhttpport = 1\n[dev]\nhttpport = 2\n", ".")
        .unwrap();
    assert_eq!(cfg.run_mode, "dev");
    assert_eq!(cfg.listen.http_port, 2);
}

#[test]
fn env_runmode_selects_runmode_app_conf_file() {
    let dir = fixtures().join("runmode");
    let plain = isolated().load_in(&dir).unwrap();
    assert_eq!(plain.app_name, "from-app-conf");
    let dev = Loader::new()
        .with_env_vars([("BEEGO_RUNMODE", "dev")])
        .load_in(&dir)
        .unwrap();
    assert_eq!(dev.app_name, "from-dev-app-conf");
    assert_eq!(dev.listen.http_port, 7001);
}

#[test]
fn env_runmode_without_its_file_gives_defaults() {
    let cfg = Loader::new()
        .with_env_vars([("BEEGO_RUNMODE", "staging")])
        .load_in(fixtures().join("runmode"))
        .unwrap();
    assert_eq!(cfg.app_name, "beego");
    assert_eq!(cfg.run_mode, "staging");
}

#[test]
fn process_env_overrides_file_with_its_own_prefix() {
    std::env::set_var("ACTIX_BEE_T_ENV1_SESSIONON", "true");
    std::env::set_var("actix_bee_t_env1_SessionName", "from-env");
    std::env::set_var("ACTIX_BEE_T_ENV1_HTTPPORT", "not-a-port");
    let cfg = Loader::new()
        .with_env_prefix("ACTIX_BEE_T_ENV1")
        .load_str(
            "sessionon = false\nsessionname = file\nhttpport = 81\n",
            ".",
        )
        .unwrap();
    assert!(cfg.web_config.session.session_on);
    assert_eq!(cfg.web_config.session.session_name, "from-env");
    assert_eq!(cfg.listen.http_port, 81);
}

#[test]
fn process_env_runmode_with_its_own_prefix() {
    std::env::set_var("ACTIX_BEE_T_ENV2_RUNMODE", "dev");
    let cfg = Loader::new()
        .with_env_prefix("ACTIX_BEE_T_ENV2")
        .load_str("[dev]\nappname = dev-app\n", ".")
        .unwrap();
    assert_eq!(cfg.run_mode, "dev");
    assert_eq!(cfg.app_name, "dev-app");
}

#[test]
fn env_beats_runmode_section_and_code_beats_env() {
    let loader = Loader::new().with_env_vars([
        ("BEEGO_APPNAME", "env"),
        ("BEEGO_SESSIONGCMAXLIFETIME", "50"),
        ("BEEGO_SESSIONDOMAIN", ""),
    ]);
    let text = "runmode = dev\nappname = file\nsessiondomain = d.com\n[dev]\nappname = dev\n";
    let cfg = loader.clone().load_str(text, ".").unwrap();
    assert_eq!(cfg.app_name, "env");
    assert_eq!(cfg.web_config.session.session_gc_max_lifetime, 50);
    // An empty variable is unset, not an empty override.
    assert_eq!(cfg.web_config.session.session_domain, "d.com");

    let cfg = loader
        .with_override("appname", "code")
        .with_override("SessionDomain", "")
        .load_str(text, ".")
        .unwrap();
    assert_eq!(cfg.app_name, "code");
    // Code may set an empty string on purpose.
    assert_eq!(cfg.web_config.session.session_domain, "");
}

#[test]
fn code_override_of_runmode_selects_the_overlay() {
    let cfg = isolated()
        .with_override("runmode", "test")
        .load_str("[test]\nappname = t\n", ".")
        .unwrap();
    assert_eq!(
        (cfg.run_mode.as_str(), cfg.app_name.as_str()),
        ("test", "t")
    );
}

#[test]
fn unknown_and_bad_overrides_are_skipped() {
    let (cfg, logs) = capture_logs(|| {
        isolated()
            .with_override("nosuchkey", "1")
            .with_override("httpport", "http")
            .load_str("httpport = 82", ".")
            .unwrap()
    });
    assert_eq!(cfg.listen.http_port, 82);
    assert!(logs.contains("nosuchkey"), "{logs}");
    assert!(
        logs.contains("httpport") && logs.contains("\"http\""),
        "{logs}"
    );
}

#[test]
fn unparsable_values_keep_defaults_and_warn() {
    let (cfg, logs) = capture_logs(|| {
        isolated()
            .load_from(fixtures().join("bad_values.conf"))
            .unwrap()
    });
    let s = &cfg.web_config.session;
    assert_eq!(s.session_gc_max_lifetime, 3600);
    assert!(!s.session_on);
    assert_eq!(cfg.listen.http_port, 8080);
    assert_eq!(s.session_id_length, 16);
    assert_eq!(s.session_cookie_lifetime, 60);
    for needle in [
        "sessiongcmaxlifetime",
        "\"abc\"",
        "bad_values.conf:1",
        "sessionon",
        "\"yES\"",
        "\"70000\"",
        "sessionidlength",
    ] {
        assert!(logs.contains(needle), "missing {needle} in {logs}");
    }
}

#[test]
fn beego_keys_without_effect_are_warned_about_at_startup() {
    let (cfg, logs) = capture_logs(|| {
        load("enablexsrf = true\nxsrfkey = s3cr3t-xsrf\nenablehttps = true\nhttpscertfile = /etc/c.pem\nenableadmin = true\nhttpport = 9000\nsessionon = true\n")
    });
    assert!(
        cfg.web_config.enable_xsrf,
        "the value is still read into BConfig"
    );
    for needle in [
        "enablehttps is not implemented",
        "httpscertfile is not implemented",
        "terminate TLS",
        "enableadmin is not implemented",
    ] {
        assert!(logs.contains(needle), "missing {needle:?} in {logs}");
    }
    assert!(
        !logs.contains("s3cr3t-xsrf"),
        "a secret reached the log: {logs}"
    );
    // Keys that act, and keys left at beego's default, say nothing.
    for quiet in ["httpport", "sessionon", "enablexsrf", "xsrfkey"] {
        assert!(
            !logs.contains(&format!("{quiet} is not implemented")),
            "{logs}"
        );
    }
    let (_, logs) = capture_logs(|| load("enablexsrf = false\nenablehttp = true\n"));
    assert!(!logs.contains("not implemented"), "defaults warned: {logs}");
}

#[test]
fn non_beego_boolean_words_are_rejected() {
    // Keys that default to false: a word wrongly read as true would show.
    for word in ["1.0", "yES", "enabled", "Y E S", "true!"] {
        let cfg = load(&format!(
            "sessionon = {word}\nsessiondisablehttponly = {word}"
        ));
        assert!(!cfg.web_config.session.session_on, "{word}");
        assert!(!cfg.web_config.session.session_disable_http_only, "{word}");
    }
    // And the words beego does accept are read.
    for word in ["1", "t", "T", "TRUE", "Yes", "y", "ON", "on"] {
        assert!(
            load(&format!("sessionon = {word}"))
                .web_config
                .session
                .session_on,
            "{word}"
        );
    }
    assert!(
        !load("sessionautosetcookie = Off")
            .web_config
            .session
            .session_auto_set_cookie
    );
}

#[test]
fn inline_comment_is_part_of_the_value() {
    let cfg = load("sessionprovider = file # not a comment\nsessionon = true # no");
    assert_eq!(
        cfg.web_config.session.session_provider,
        "file # not a comment"
    );
    assert!(!cfg.web_config.session.session_on);
}

#[test]
fn quoted_and_env_values_reach_the_fields() {
    std::env::set_var("ACTIX_BEE_T_BC_DSN", "redis://x");
    let cfg = load("appname = \"quoted\"\nsessionproviderconfig = ${ACTIX_BEE_T_BC_DSN}\nsessionname = ${ACTIX_BEE_T_BC_UNSET||fallback}\n");
    assert_eq!(cfg.app_name, "quoted");
    assert_eq!(cfg.web_config.session.session_provider_config, "redis://x");
    assert_eq!(cfg.web_config.session.session_name, "fallback");
}

#[test]
fn includes_feed_bconfig() {
    let cfg = isolated().load_from(fixtures().join("main.conf")).unwrap();
    assert_eq!(cfg.app_name, "included");
    assert_eq!(cfg.web_config.session.session_name, "after");
    assert_eq!(cfg.web_config.session.session_provider, "file");
}

#[test]
fn invalid_same_site_is_a_startup_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    std::fs::write(&path, "sessioncookiesamesite = sometimes\n").unwrap();
    let err = isolated().load_from(&path).unwrap_err();
    match &err {
        Error::InvalidValue {
            key, value, origin, ..
        } => {
            assert_eq!(key, "sessioncookiesamesite");
            assert_eq!(value, "sometimes");
            assert!(origin.ends_with("app.conf:1"), "{origin}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("sessioncookiesamesite"));
}

#[test]
fn same_site_accepts_ints_and_names() {
    for v in ["0", "1", "2", "3", "4", "lax", "Strict", "NONE"] {
        let cfg = load(&format!("sessioncookiesamesite = {v}"));
        assert_eq!(cfg.web_config.session.session_cookie_same_site, v);
    }
}

#[test]
fn invalid_hash_func_is_a_startup_error() {
    let err = load_err("sessionhashfunc = md5\n");
    assert!(
        matches!(&err, Error::InvalidValue { key, .. } if key == "sessionhashfunc"),
        "{err:?}"
    );
}

#[test]
fn invalid_session_config_json_is_an_error_without_the_text() {
    let err = load_err("sessionconfig = {\"providerConfig\":\"secret-dsn\",\n");
    assert!(matches!(err, Error::SessionConfigJson(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("secret-dsn"));
    let err = load_err("sessionconfig = [1, 2]\n");
    assert!(matches!(err, Error::SessionConfigJson(_)), "{err:?}");
}

#[test]
fn syntax_error_reaches_bconfig() {
    let err = load_err("appname = x\nwhat is this\n");
    assert!(matches!(err, Error::Syntax { line: 2, .. }), "{err:?}");
}

#[test]
fn obsolete_key_warns() {
    let (cfg, logs) = capture_logs(|| load("sessionsavepath = /tmp/s"));
    assert_eq!(cfg.web_config.session.session_provider_config, "");
    assert!(
        logs.contains("sessionsavepath") && logs.contains("sessionproviderconfig"),
        "{logs}"
    );
}

#[test]
fn fields_changed_after_loading_reach_the_manager_config() {
    // beego code sets `web.BConfig.WebConfig.Session.X` after loading; what
    // the Manager is built from must follow the change, not the file.
    let mut cfg = load("sessionname = from_file\nsessiongcmaxlifetime = 100");
    cfg.web_config.session.session_name = "from_code".into();
    cfg.web_config.session.session_gc_max_lifetime = 7;
    let m = cfg.session_manager_config().unwrap();
    assert_eq!(m.cookie_name, "from_code");
    assert_eq!(m.gc_lifetime, 7);
}

fn load_err(text: &str) -> Error {
    isolated().load_str(text, fixtures()).unwrap_err()
}

// ---- ManagerConfig binding ----

#[test]
fn manager_config_maps_every_field() {
    let cfg = load(
        "sessionname = sid\nsessionautosetcookie = false\nsessiongcmaxlifetime = 100\n\
         sessionmaxlifetime = 50\nsessionabsolutelifetime = 1000\nsessiondisablehttponly = true\n\
         sessiontrustproxy = true\nsessioncookielifetime = 30\nsessionproviderconfig = ./tmp/s\n\
         sessiondomain = e.com\nsessionidlength = 24\nsessionenablesidinhttpheader = true\n\
         sessionnameinhttpheader = X-Session-Id\nsessionenablesidinurlquery = true\n\
         sessionidprefix = p_\nsessioncookiesamesite = 3\nsessionhashfunc = NONE\nsessionhashkey = hk\n",
    );
    let m = cfg.session_manager_config().unwrap();
    assert_eq!(m.cookie_name, "sid");
    assert!(!m.enable_set_cookie);
    assert_eq!(
        (m.gc_lifetime, m.max_lifetime, m.absolute_lifetime),
        (100, 50, 1000)
    );
    assert!(m.disable_http_only && m.trust_proxy && !m.secure);
    assert_eq!(m.cookie_life_time, 30);
    assert_eq!(m.provider_config, "./tmp/s");
    assert_eq!(m.domain, "e.com");
    assert_eq!(m.session_id_length, 24);
    assert!(m.enable_sid_in_http_header && m.enable_sid_in_url_query);
    assert_eq!(m.session_name_in_http_header, "X-Session-Id");
    assert_eq!(m.session_id_prefix, "p_");
    assert_eq!(m.cookie_same_site, SameSite::Strict);
    assert_eq!(m.session_id_hash_func, HashFunc::None);
    assert_eq!(m.session_id_hash_key, "hk");
}

#[test]
fn manager_config_defaults() {
    let m = SessionConfig::default()
        .manager_config(&Listen::default())
        .unwrap();
    assert_eq!(m.cookie_name, "beegosessionID");
    assert!(m.enable_set_cookie && !m.secure);
    assert_eq!((m.gc_lifetime, m.max_lifetime), (3600, 3600));
    assert_eq!(m.absolute_lifetime, 86400);
    assert_eq!(m.session_id_length, 16);
    assert_eq!(m.cookie_same_site, SameSite::Lax);
    assert_eq!(m.session_id_hash_func, HashFunc::Sha1);
}

#[test]
fn manager_config_secure_from_https_or_session_secure() {
    let s = SessionConfig::default();
    let mut listen = Listen::default();
    listen.enable_https = true;
    assert!(s.manager_config(&listen).unwrap().secure);
    let mut s = SessionConfig::default();
    s.session_secure = true;
    assert!(s.manager_config(&Listen::default()).unwrap().secure);
}

#[test]
fn manager_config_max_lifetime_zero_follows_gc_lifetime() {
    let cfg = load("sessiongcmaxlifetime = 42");
    assert_eq!(cfg.session_manager_config().unwrap().max_lifetime, 42);
}

#[test]
fn manager_config_same_site_values() {
    let cases = [
        ("0", SameSite::Lax),
        ("1", SameSite::Lax),
        ("2", SameSite::Lax),
        ("3", SameSite::Strict),
        ("4", SameSite::None),
        ("LAX", SameSite::Lax),
        ("strict", SameSite::Strict),
        ("None", SameSite::None),
    ];
    for (v, want) in cases {
        let mut s = SessionConfig::default();
        s.session_cookie_same_site = v.into();
        assert_eq!(
            s.manager_config(&Listen::default())
                .unwrap()
                .cookie_same_site,
            want,
            "{v}"
        );
    }
    let mut s = SessionConfig::default();
    s.session_cookie_same_site = "5".into();
    let err = s.manager_config(&Listen::default()).unwrap_err();
    assert!(matches!(&err, Error::InvalidValue { key, .. } if key == "sessioncookiesamesite"));
}

#[test]
fn manager_config_json_replaces_mapped_keys_and_keeps_defaults() {
    let cfg = load(
        "sessionname = ignored\nsessiongcmaxlifetime = 5\nsessionabsolutelifetime = 77\n\
         sessionconfig = {\"cookieName\":\"json\",\"gclifetime\":60,\"enableSetCookie\":false}\n",
    );
    let m = cfg.session_manager_config().unwrap();
    assert_eq!(m.cookie_name, "json");
    assert_eq!((m.gc_lifetime, m.max_lifetime), (60, 60));
    assert!(!m.enable_set_cookie);
    // Missing JSON keys keep the defaults, not zero values and not app.conf's keys.
    assert_eq!(m.session_id_length, 16);
    assert_eq!(m.session_name_in_http_header, "Beegosessionid");
    // Additions without a beego JSON key still come from app.conf.
    assert_eq!(m.absolute_lifetime, 77);
}

#[test]
fn manager_config_json_errors() {
    let mut s = SessionConfig::default();
    s.session_config = "{\"gclifetime\":\"soon\"}".into();
    let err = s.manager_config(&Listen::default()).unwrap_err();
    assert!(matches!(err, Error::SessionConfigJson(_)), "{err:?}");
}

#[test]
fn manager_config_rejects_lifetimes_beego_would_misuse() {
    let mut s = SessionConfig::default();
    s.session_gc_max_lifetime = 0;
    let err = s.manager_config(&Listen::default()).unwrap_err();
    assert!(matches!(&err, Error::InvalidValue { key, .. } if key == "sessiongcmaxlifetime"));
    let mut s = SessionConfig::default();
    s.session_max_lifetime = -1;
    assert!(s.manager_config(&Listen::default()).is_err());
}

#[test]
fn manager_config_header_name_must_be_canonical_when_used() {
    let mut s = SessionConfig::default();
    s.session_enable_sid_in_http_header = true;
    s.session_name_in_http_header = "beegosessionid".into();
    let err = s.manager_config(&Listen::default()).unwrap_err();
    assert!(err.to_string().contains("Beegosessionid"), "{err}");
    // Not checked while header ids are off.
    s.session_enable_sid_in_http_header = false;
    assert!(s.manager_config(&Listen::default()).is_ok());
}

#[test]
fn errors_never_show_the_hash_key() {
    let mut s = SessionConfig::default();
    s.session_hash_key = "topsecret".into();
    s.session_hash_func = "md5".into();
    let err = s.manager_config(&Listen::default()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("topsecret"));
}
