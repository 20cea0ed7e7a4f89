//! The `actix-bee` binary, run as a user runs it: against the real servers
//! (`scripts/test-servers.sh`, and the TLS ones of `support/servers.rs`), against broken
//! files, and on every `sessionproviderconfig` example of the docs.

#[path = "support/redis.rs"]
mod redis_support;
#[path = "support/servers.rs"]
mod servers;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use redis_support::{cleanup, env_or, prefix, raw};

/// Every run, failures included, ends well within this.
const LIMIT: Duration = Duration::from_secs(30);
/// An unreachable backend is reported within this.
const FAST: Duration = Duration::from_secs(10);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn failed(&self, wanted: &[&str]) -> &Self {
        assert_eq!(
            self.code, 1,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        for w in wanted {
            assert!(
                self.stderr.contains(w),
                "{w:?} missing from:\n{}",
                self.stderr
            );
        }
        self
    }

    /// The output line of `key` (`  key  = value  origin`).
    fn line(&self, key: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no line for {key} in:\n{}", self.stdout))
    }
}

/// Runs the binary in `dir`, with only the `BEEGO_*` variables given.
fn bee_within(limit: Duration, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_actix-bee"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.to_uppercase().starts_with("BEEGO_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("the actix-bee binary runs");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let (mut o, mut e) = (String::new(), String::new());
        out.read_to_string(&mut o).unwrap();
        err.read_to_string(&mut e).unwrap();
        (o, e)
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("actix-bee {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = reader.join().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

fn bee(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    bee_within(LIMIT, dir, args, env)
}

/// A temp dir holding `app.conf` with `text`.
fn conf(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.conf"), text).unwrap();
    dir
}

/// Runs `check` on `text` and expects it to fail with `wanted` on stderr.
fn check_fails(text: &str, wanted: &[&str]) {
    let dir = conf(text);
    bee(dir.path(), &["check", "app.conf"], &[]).failed(wanted);
}

fn provider_conf(provider: &str, config: &str) -> String {
    format!("sessionon = true\nsessionprovider = {provider}\nsessionproviderconfig = {config}\n")
}

const LAYERED: &str = "appname = demo
runmode = dev
include \"db.conf\"
sessionon = true
sessionname = fromfile
[dev]
sessionprovider = file
sessiongcmaxlifetime = ${ACTIX_BEE_CLI_TEST_UNSET||120}
";

fn layered() -> tempfile::TempDir {
    let dir = conf(LAYERED);
    std::fs::write(
        dir.path().join("db.conf"),
        "sessionproviderconfig = ./tmp/s\n",
    )
    .unwrap();
    dir
}

#[test]
fn config_says_where_each_session_key_came_from() {
    let dir = layered();
    let env = [("BEEGO_SESSIONNAME", "fromenv")];
    let run = bee(dir.path(), &["config", "app.conf"], &env);
    run.ok();
    assert!(
        run.stdout
            .starts_with("app.conf: run mode dev (app.conf:2)"),
        "{}",
        run.stdout
    );
    let expect = [
        ("sessionon", "true", "app.conf:4"),
        ("sessionprovider", "file", "app.conf:7 [dev]"),
        (
            "sessiongcmaxlifetime",
            "120",
            "app.conf:8 [dev], ${ACTIX_BEE_CLI_TEST_UNSET} (unset: its default)",
        ),
        ("sessionname", "fromenv", "environment BEEGO_SESSIONNAME"),
        ("sessionproviderconfig", "./tmp/s", "db.conf:1 (included)"),
        ("sessionidlength", "16", "default"),
        ("appname", "demo", "app.conf:1"),
    ];
    for (key, value, origin) in expect {
        let line = run.line(key);
        assert!(line.contains(&format!("= {value} ")), "{line}");
        assert!(line.trim_end().ends_with(origin), "{line}");
    }
}

#[test]
fn config_json_has_the_same_origins() {
    let dir = layered();
    let env = [("BEEGO_SESSIONNAME", "fromenv")];
    let run = bee(dir.path(), &["config", "--json", "app.conf"], &env);
    run.ok();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let s = &doc["session"];
    assert_eq!(doc["runmode"]["value"], "dev");
    assert_eq!(doc["runmode"]["origin"]["line"], 2);
    assert_eq!(s["sessionon"]["value"], true);
    let provider = &s["sessionprovider"]["origin"];
    assert_eq!(
        (provider["kind"].as_str(), provider["line"].as_u64()),
        (Some("file"), Some(7))
    );
    assert_eq!(provider["section"], "dev");
    assert_eq!(s["sessiongcmaxlifetime"]["value"], 120);
    assert_eq!(
        s["sessiongcmaxlifetime"]["origin"]["env_var"],
        "ACTIX_BEE_CLI_TEST_UNSET"
    );
    assert_eq!(
        s["sessiongcmaxlifetime"]["origin"]["env_default_used"],
        true
    );
    assert_eq!(s["sessionname"]["origin"]["kind"], "env");
    assert_eq!(s["sessionname"]["origin"]["var"], "BEEGO_SESSIONNAME");
    assert_eq!(s["sessionproviderconfig"]["origin"]["included"], true);
    assert_eq!(s["sessionproviderconfig"]["origin"]["file"], "db.conf");
    assert_eq!(s["sessionidlength"]["origin"]["kind"], "default");
    assert_eq!(doc["other"]["appname"]["value"], "demo");
    assert!(
        doc["other"].get("httpport").is_none(),
        "defaults are not listed"
    );
}

#[test]
fn config_masks_secrets_unless_asked() {
    let text = provider_conf("redis", "redis://:hunter2@127.0.0.1:6379/0")
        + "sessionhashkey = topsecretkey\nxsrfkey = xsrfsecretkey\n";
    let dir = conf(&text);
    for args in [
        &["config", "app.conf"][..],
        &["config", "--json", "app.conf"],
    ] {
        let run = bee(dir.path(), args, &[]);
        run.ok();
        for secret in ["hunter2", "topsecretkey", "xsrfsecretkey"] {
            assert!(!run.stdout.contains(secret), "{}", run.stdout);
        }
        assert!(run.stdout.contains("<redacted>"), "{}", run.stdout);
    }
    let run = bee(dir.path(), &["config", "--show-secrets", "app.conf"], &[]);
    assert!(run.ok().stdout.contains("redis://:hunter2@127.0.0.1"));
}

/// `(provider, config, secrets, kept)`: every documented secret field in
/// every written form; `secrets` must not be printed, `kept` must be (the
/// rest of the value stays readable).
const SECRET_FORMS: &[(&str, &str, &[&str], &str)] = &[
    (
        "cookie",
        r#"{"securityKey":"SKsecret1","blockKey":"BKsecret2","cookieName":"sid"}"#,
        &["SKsecret1", "BKsecret2"],
        r#""cookieName":"sid""#,
    ),
    (
        "cookie",
        r#"{"securityKeys":["RINGsecret3","RINGsecret4"],"oldKeys":["OLDsecret5"],"cookieName":"sid"}"#,
        &["RINGsecret3", "RINGsecret4", "OLDsecret5"],
        r#""cookieName":"sid""#,
    ),
    (
        "cookie",
        r#"{"SECURITYKEYS":["RINGsecret6"],"oldkeys":["OLDsecret7"]}"#,
        &["RINGsecret6", "OLDsecret7"],
        "{",
    ),
    (
        "mysql",
        "app:AbC/dEf@tcp(127.0.0.1:3306)/app",
        &["AbC", "dEf"],
        "app:<redacted>@tcp(127.0.0.1:3306)/app",
    ),
    (
        "mysql",
        "app:a(b)c@tcp(127.0.0.1:3306)/app?tls=false",
        &["a(b)c", "b)c"],
        "@tcp(127.0.0.1:3306)/app?tls=false",
    ),
    (
        "mysql",
        "app:p@ss@wd@tcp(127.0.0.1:3306)/app",
        &["p@ss", "ss@wd"],
        "@tcp(127.0.0.1:3306)/app",
    ),
    (
        "mysql",
        "mysql://app:s3cr%40t@127.0.0.1:3306/app",
        &["s3cr"],
        "mysql://app:<redacted>@127.0.0.1:3306/app",
    ),
    (
        "postgresql",
        "postgres://u:pgUrlSecret@127.0.0.1:5432/test",
        &["pgUrlSecret"],
        "@127.0.0.1:5432/test",
    ),
    (
        "postgresql",
        "postgres://u@127.0.0.1/test?password=pgQuerySecret&table=t",
        &["pgQuerySecret"],
        "table=t",
    ),
    (
        "postgresql",
        "host=127.0.0.1 user=u password='a b secret' dbname=test",
        &["a b", "b secret"],
        "dbname=test",
    ),
    (
        "postgres",
        "host=127.0.0.1 password=plainConnSecret dbname=test",
        &["plainConnSecret"],
        "dbname=test",
    ),
    (
        "redis",
        "127.0.0.1:6379,100,rComma/secret,0",
        &["rComma", "secret"],
        "127.0.0.1:6379,100,",
    ),
    (
        "redis",
        "redis://:rUrl%40secret@127.0.0.1:6379/0",
        &["rUrl", "secret"],
        "@127.0.0.1:6379/0",
    ),
    (
        "redis",
        "redis://127.0.0.1:6379/0?password=rQuerySecret&key_prefix=x",
        &["rQuerySecret"],
        "key_prefix=x",
    ),
    (
        "redis",
        r#"{"save_path":"127.0.0.1:6379","password":"rJson secret"}"#,
        &["rJson", "secret"],
        "127.0.0.1:6379",
    ),
    (
        "redis",
        r#"{"save_path":"redis://:rNestedSecret@127.0.0.1:6379"}"#,
        &["rNestedSecret"],
        "@127.0.0.1:6379",
    ),
    (
        "redis_sentinel",
        "127.0.0.1:26379,10,sentPw,0,mymaster,sentinel_password=sentSecret",
        &["sentPw", "sentSecret"],
        "mymaster",
    ),
    (
        "redis_cluster",
        r#"{"save_path":"127.0.0.1:7001;127.0.0.1:7002","password":"clusterSecret"}"#,
        &["clusterSecret"],
        "127.0.0.1:7002",
    ),
    (
        "memcache",
        "memcache://u:mcSecret@127.0.0.1:11211;pool_size=4",
        &["mcSecret"],
        "@127.0.0.1:11211",
    ),
    (
        "couchbase",
        "http://bucket:cbUrlSecret@127.0.0.1:8091",
        &["cbUrlSecret"],
        "@127.0.0.1:8091",
    ),
    (
        "couchbase",
        r#"{"save_path":"couchbase://127.0.0.1","bucket":"b","username":"u","password":"cbJsonSecret"}"#,
        &["cbJsonSecret"],
        "couchbase://127.0.0.1",
    ),
];

#[test]
fn config_masks_every_secret_as_its_engine_reads_it() {
    let mut leaks = Vec::new();
    for (provider, config, secrets, kept) in SECRET_FORMS {
        let dir = conf(&provider_conf(provider, config));
        let text = bee(dir.path(), &["config", "app.conf"], &[]);
        let json = bee(dir.path(), &["config", "--json", "app.conf"], &[]);
        let value = serde_json::from_str::<serde_json::Value>(&json.ok().stdout).unwrap()
            ["session"]["sessionproviderconfig"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let line = text.ok().line("sessionproviderconfig").to_owned();
        for shown in [&line, &value] {
            if let Some(secret) = secrets.iter().find(|s| shown.contains(*s)) {
                leaks.push(format!(
                    "{provider} {config}: {secret:?} printed in {shown}"
                ));
            } else if !shown.contains("<redacted>") {
                leaks.push(format!("{provider} {config}: nothing masked in {shown}"));
            }
        }
        // Couchbase is masked whole when the binary is built without it.
        let parsed_here = *provider != "couchbase" || cfg!(feature = "couchbase");
        if parsed_here && !value.contains(kept) {
            leaks.push(format!("{provider} {config}: {kept:?} not kept in {value}"));
        }
    }
    let cfg = r#"{"providerConfig":"app:pw/x@tcp(127.0.0.1:3306)/app","sessionIDHashKey":"hk1"}"#;
    let dir = conf(&format!("sessionprovider = mysql\nsessionconfig = {cfg}\n"));
    let run = bee(dir.path(), &["config", "app.conf"], &[]);
    let line = run.ok().line("sessionconfig");
    for secret in ["pw/x", "/x@", "hk1"] {
        if line.contains(secret) {
            leaks.push(format!("sessionconfig: {secret:?} printed in {line}"));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

#[test]
fn files_the_app_would_refuse_exit_non_zero_naming_file_and_line() {
    let cases: &[(&str, &[&str])] = &[
        (
            "appname = x\nsessionon = true\nnot a key value\n",
            &["app.conf:3", "should key = val"],
        ),
        (
            "sessionon = true\nsessiongcmaxlifetime = 0\n",
            &["sessiongcmaxlifetime", "app.conf:2"],
        ),
        (
            "[prod]\nsessionmaxlifetime = -5\n",
            &["must not be negative", "app.conf:2 [prod]"],
        ),
        (
            "sessioncookiesamesite = sometimes\n",
            &["sessioncookiesamesite", "app.conf:1"],
        ),
        ("include \"app.conf\"\n", &["include cycle"]),
    ];
    for (text, wanted) in cases {
        let dir = conf(text);
        bee(dir.path(), &["config", "app.conf"], &[]).failed(wanted);
        bee(dir.path(), &["check", "app.conf"], &[]).failed(wanted);
    }
    let dir = tempfile::tempdir().unwrap();
    bee(dir.path(), &["config"], &[]).failed(&["conf/app.conf: no such file"]);
}

#[test]
fn absurd_numbers() {
    // beego keeps its default for a value that does not parse: a warning, not a refusal.
    let dir = conf("httpport = 99999999999\nsessiongcmaxlifetime = 1e400\n");
    let run = bee(dir.path(), &["config", "app.conf"], &[]);
    run.ok();
    assert!(
        run.stderr.contains("httpport") && run.stderr.contains("app.conf:1"),
        "{}",
        run.stderr
    );
    assert!(run.line("sessiongcmaxlifetime").contains("3600"));
    // Values start-up refuses fail the check with what to change.
    check_fails(
        &(provider_conf("memory", "") + "sessionidlength = 4096\n"),
        &["session id length must be 16 to 64"],
    );
    check_fails(
        &provider_conf("redis", "127.0.0.1:6379,99999999999999999999"),
        &[
            "poolsize must be 1 to 1024",
            "field 2 is poolsize",
            "to fix: fix sessionproviderconfig (app.conf:3)",
        ],
    );
    check_fails(
        &provider_conf("memory", "max_sessions=-1"),
        &["max_sessions", "app.conf:3"],
    );
}

#[test]
fn unknown_provider_names_the_line() {
    check_fails(
        "sessionon = true\n\nsessionprovider = nosuch\n",
        &[
            "unknown provider \"nosuch\"",
            "to fix: set sessionprovider (app.conf:3)",
        ],
    );
}

#[test]
fn misread_forms_say_what_was_meant() {
    check_fails(
        &provider_conf("mysql", "root@127.0.0.1:3306/test"),
        &[
            "protocol must be tcp or unix",
            "user@tcp(127.0.0.1:3306)/dbname",
        ],
    );
    check_fails(
        &provider_conf("postgresql", "127.0.0.1:5432"),
        &[
            "read as libpq's conninfo",
            "postgres://user@host:port/dbname",
        ],
    );
    check_fails(
        &provider_conf("memcache", "127.0.0.1:11311,32"),
        &["address #2", "such as pool_size=32"],
    );
    check_fails(
        &provider_conf("redis", "127.0.0.1:6379,abc"),
        &[
            "poolsize must be 1 to 1024",
            "`addr,poolsize,password,db_num",
        ],
    );
}

#[test]
fn comma_separated_cluster_addresses_say_what_was_meant() {
    check_fails(
        &provider_conf(
            "redis_cluster",
            "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
        ),
        &[
            "read as the pool size",
            "127.0.0.1:7001;127.0.0.1:7002;127.0.0.1:7003",
        ],
    );
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn unreachable_backends_fail_fast_with_what_to_change() {
    let port = closed_port();
    for (provider, config) in [
        ("redis", format!("127.0.0.1:{port}")),
        ("redis_cluster", format!("127.0.0.1:{port}")),
        ("redis_sentinel", format!("127.0.0.1:{port},10,,0,mymaster")),
        ("mysql", format!("root:@tcp(127.0.0.1:{port})/test")),
        (
            "postgresql",
            format!("postgres://postgres@127.0.0.1:{port}/test"),
        ),
        ("memcache", format!("127.0.0.1:{port}")),
    ] {
        let dir = conf(&provider_conf(provider, &config));
        let run = bee_within(FAST, dir.path(), &["check", "app.conf"], &[]);
        run.failed(&[
            &format!("the {provider} backend failed"),
            "to fix: check that the",
            "sessionproviderconfig (app.conf:3)",
        ]);
        // memcache connects lazily: its first call fails, not its start.
        let step = if provider == "memcache" {
            "write"
        } else {
            "start"
        };
        let failed_at = format!("  {step:<10} FAIL");
        assert!(
            run.stdout.contains(&failed_at),
            "{provider}: {}",
            run.stdout
        );
        // A refused connection is no hint that the server wants TLS.
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(!said.contains("rediss://"), "{provider}: {said}");
        if provider == "redis" {
            assert!(said.contains("nothing accepts connections"), "{said}");
        }
    }
}

/// A working configuration of each engine on this machine's servers.
fn live_configs(dir: &Path) -> Vec<(&'static str, String)> {
    let cluster = servers::setting("REDIS_CLUSTER_NODES");
    let sentinels = servers::setting("SENTINELS");
    vec![
        ("memory", String::new()),
        ("file", dir.join("sessions").display().to_string()),
        (
            "cookie",
            format!(r#"{{"securityKey":"{}"}}"#, "k".repeat(40)),
        ),
        (
            "redis",
            env_or("ACTIX_BEE_REDIS_URL", "redis://127.0.0.1:6379/"),
        ),
        ("redis_cluster", cluster.replace(',', ";")),
        (
            "redis_sentinel",
            format!("{},10,,0,mymaster", sentinels.replace(',', ";")),
        ),
        (
            "mysql",
            env_or("ACTIX_BEE_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
                + "?table=actix_bee_cli",
        ),
        (
            "postgresql",
            env_or(
                "ACTIX_BEE_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ) + "?table=actix_bee_cli",
        ),
        ("memcache", servers::setting("MEMCACHE_ADDR")),
    ]
}

#[test]
fn check_round_trips_a_session_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    for (provider, config) in live_configs(dir.path()) {
        std::fs::write(
            dir.path().join("app.conf"),
            provider_conf(provider, &config),
        )
        .unwrap();
        let run = bee(dir.path(), &["check", "app.conf"], &[]);
        run.ok();
        for step in ["start", "create", "write", "read", "regenerate", "destroy"] {
            assert!(
                run.stdout.contains(&format!("  {step:<10} ok ")),
                "{provider}: {step} missing:\n{}",
                run.stdout
            );
        }
        assert!(run
            .stdout
            .contains(&format!("ok: the {provider} engine works")));
    }
    // The throw-away session is gone: the file store is empty again.
    std::fs::write(
        dir.path().join("app.conf"),
        provider_conf("file", &dir.path().join("sessions").display().to_string()),
    )
    .unwrap();
    let run = bee(dir.path(), &["sessions", "-f", "app.conf", "count"], &[]);
    assert_eq!(run.ok().stdout.trim(), "0");
}

#[test]
fn check_says_when_sessions_are_off() {
    let dir = conf("sessionprovider = memory\n");
    let run = bee(dir.path(), &["check", "app.conf"], &[]);
    assert!(
        run.ok().stdout.contains("sessionon is false (default)"),
        "{}",
        run.stdout
    );
}

/// Writes `n` sessions through the library with the file's own settings,
/// owned by `owner` when given.
async fn make_sessions(file: &Path, n: usize, owner: Option<&str>) -> Vec<String> {
    let cfg = actix_bee::config::BConfig::load_from(file).unwrap();
    let state = actix_bee::web::App::new(cfg).build().await.unwrap();
    let manager = state.manager().unwrap().clone();
    let mut ids = Vec::new();
    for i in 0..n {
        let s = manager.session_start(&Default::default()).await.unwrap();
        match owner {
            Some(owner) => s.set_owner(owner).await.unwrap(),
            None => s.set("n", &i).await.unwrap(),
        }
        let parts = manager.session_release(&s).await.unwrap();
        ids.push(parts.cookie.unwrap().value);
    }
    ids
}

#[actix_rt::test]
async fn sessions_count_gc_and_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let key_prefix = prefix();
    for (provider, config) in [
        ("file", dir.path().join("s").display().to_string()),
        (
            "redis",
            format!(r#"{{"save_path":"127.0.0.1:6379","key_prefix":"{key_prefix}"}}"#),
        ),
    ] {
        // The default file, conf/app.conf, as in a beego project.
        let file = dir.path().join("conf/app.conf");
        std::fs::create_dir_all(dir.path().join("conf")).unwrap();
        std::fs::write(&file, provider_conf(provider, &config)).unwrap();
        let ids = make_sessions(&file, 3, None).await;
        let count = || {
            bee(dir.path(), &["sessions", "count"], &[])
                .ok()
                .stdout
                .trim()
                .to_owned()
        };
        assert_eq!(count(), "3", "{provider}");
        let run = bee(dir.path(), &["sessions", "destroy", &ids[0]], &[]);
        assert!(run.ok().stdout.ends_with(": destroyed\n"), "{}", run.stdout);
        assert_eq!(count(), "2", "{provider}");
        let run = bee(dir.path(), &["sessions", "destroy", &ids[0]], &[]);
        assert!(
            run.ok().stdout.contains("nothing to destroy"),
            "{}",
            run.stdout
        );
        for bad in [
            "../../etc/passwd",
            "",
            &ids[1].to_uppercase(),
            &format!("{}0", ids[1]),
        ] {
            bee(dir.path(), &["sessions", "destroy", bad], &[]).failed(&[
                "not a session id of this configuration",
                "expected 40 lower-case hex characters",
            ]);
        }
        bee(dir.path(), &["sessions", "gc"], &[]).ok();
        assert_eq!(count(), "2", "gc keeps live sessions ({provider})");
        for id in &ids[1..] {
            bee(
                dir.path(),
                &["sessions", "--file", "conf/app.conf", "destroy", id],
                &[],
            )
            .ok();
        }
        assert_eq!(count(), "0", "{provider}");
    }
}

#[actix_rt::test]
async fn sessions_list_and_destroy_by_owner() {
    let redis = env_or("ACTIX_BEE_REDIS_URL", "redis://127.0.0.1:6379/");
    let key_prefix = prefix();
    let config = format!(r#"{{"save_path":"{redis}","key_prefix":"{key_prefix}"}}"#);
    list_and_destroy_by_owner("redis", &config).await;
    // The index and epoch keys of this run.
    cleanup(&mut raw(&redis).await, &key_prefix).await;
}

/// The same on the file and postgresql engines' own indexes.
#[actix_rt::test]
async fn sessions_by_owner_on_file_and_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    list_and_destroy_by_owner("file", &dir.path().join("s").display().to_string()).await;
    let pg = env_or(
        "ACTIX_BEE_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    // The bee_t_<secs>_ prefix lets tests/postgresql.rs sweep it later.
    let secs = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs();
    let table = format!("bee_t_{secs}_{:08x}", rand::random::<u32>());
    let sep = if pg.contains('?') { '&' } else { '?' };
    list_and_destroy_by_owner("postgresql", &format!("{pg}{sep}table={table}")).await;
}

/// `sessions list --owner` and `destroy --owner` against `provider`.
async fn list_and_destroy_by_owner(provider: &str, config: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.conf");
    std::fs::write(&file, provider_conf(provider, config)).unwrap();
    let alice = make_sessions(&file, 3, Some("alice@example.com")).await;
    let bob = make_sessions(&file, 1, Some("bob")).await;
    fn args<'a>(a: &[&'a str]) -> Vec<&'a str> {
        [&["sessions", "-f", "app.conf"][..], a].concat()
    }
    let list = |owner: &'static str| bee(dir.path(), &args(&["list", "--owner", owner]), &[]);

    let run = list("alice@example.com");
    let out = &run.ok().stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "header, 3 sessions, count:\n{out}");
    assert!(lines[0].starts_with("FINGERPRINT"), "{out}");
    for line in &lines[1..4] {
        assert_eq!(line.matches(" UTC").count(), 2, "{line}");
        assert!(line.contains(" 20") && !line.contains("unknown"), "{line}");
    }
    assert_eq!(lines[4], r#"owner "alice@example.com": 3 live sessions"#);
    for id in alice.iter().chain(&bob) {
        assert!(!out.contains(id.as_str()), "a raw id is printed:\n{out}");
    }

    let run = bee(
        dir.path(),
        &args(&["list", "--owner", "alice@example.com", "--json"]),
        &[],
    );
    let doc: serde_json::Value = serde_json::from_str(&run.ok().stdout).unwrap();
    assert_eq!(doc["count"], 3);
    assert_eq!(
        doc["sessions"][0]["fingerprint"].as_str().unwrap().len(),
        12
    );
    assert!(doc["sessions"][0]["created"]
        .as_str()
        .unwrap()
        .ends_with(" UTC"));
    for id in &alice {
        assert!(!run.stdout.contains(id.as_str()), "{}", run.stdout);
    }

    let run = bee(
        dir.path(),
        &args(&["destroy", "--owner", "alice@example.com"]),
        &[],
    );
    assert_eq!(
        run.ok().stdout,
        "owner \"alice@example.com\": 3 sessions ended\n"
    );
    let run = list("alice@example.com");
    assert_eq!(
        run.ok().stdout,
        "owner \"alice@example.com\": 0 live sessions\n"
    );
    // Gone from the store too, and the other owner's session is untouched.
    for id in &alice {
        let run = bee(dir.path(), &args(&["destroy", id]), &[]);
        assert!(
            run.ok().stdout.contains("nothing to destroy"),
            "{}",
            run.stdout
        );
    }
    assert!(list("bob").ok().stdout.ends_with(": 1 live session\n"));
    let run = bee(dir.path(), &args(&["destroy", "--owner", "bob"]), &[]);
    assert!(run.ok().stdout.ends_with(": 1 session ended\n"));
    assert_eq!(
        bee(dir.path(), &args(&["count"]), &[]).ok().stdout.trim(),
        "0"
    );

    // `destroy ID` and `destroy --owner USER` are one or the other.
    for bad in [
        &["destroy"][..],
        &["destroy", &alice[0], "--owner", "bob"],
        &["list"],
    ] {
        let run = bee(dir.path(), &args(bad), &[]);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
    }
}

#[test]
fn sessions_by_owner_on_an_engine_without_the_index_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    for (provider, config) in [("memcache", servers::setting("MEMCACHE_ADDR"))] {
        std::fs::write(
            dir.path().join("app.conf"),
            provider_conf(provider, &config),
        )
        .unwrap();
        for action in ["list", "destroy"] {
            let run = bee(
                dir.path(),
                &["sessions", "-f", "app.conf", action, "--owner", "alice"],
                &[],
            );
            run.failed(&[
                &format!("error: {action}: session: the {provider} engine does not support sessions by owner"),
                "to fix: sessions by owner need an engine that keeps an owner index",
                "set sessionprovider (app.conf:2)",
                "actix-bee sessions destroy ID",
            ]);
        }
    }
}

/// A setting of the TLS test servers, starting the server it names.
fn tls_env(name: &str) -> String {
    servers::tls(name)
}

/// The docs' placeholders and where they point on this machine: the hosts,
/// users and CA files of a production setup, mapped onto the test servers
/// (plain and TLS), which are set up to accept exactly these examples.
fn placeholders() -> Vec<(&'static str, String)> {
    let ca = tls_env("CA");
    let host = |var: &str| tls_env(var);
    let nodes = tls_env("REDIS_CLUSTER_NODES");
    let sentinels = tls_env("SENTINELS");
    let two_sentinels = sentinels.split(',').take(2).collect::<Vec<_>>();
    let redis_tls = tls_env("REDIS_URL");
    let redis_tls = redis_tls
        .trim_start_matches("rediss://")
        .trim_end_matches('/');
    let (user, pw) = (tls_env("MYSQL_USER"), tls_env("MYSQL_PASSWORD"));
    vec![
        ("/etc/ssl/redis-ca.pem", ca.clone()),
        ("/etc/ssl/db-ca.pem", ca),
        ("redis.internal:6380", redis_tls.to_owned()),
        ("n1:7001,n2:7002,n3:7003", nodes),
        ("s1:26379,s2:26379", two_sentinels.join(",")),
        ("s1:26379;s2:26379", two_sentinels.join(";")),
        (
            "app:secret@tcp(db.internal:3306)/app",
            format!("{user}:{pw}@tcp({})/test", host("MYSQL_ADDR")),
        ),
        (
            "mysql://app:secret@db.internal:3306/app",
            format!("mysql://{user}:{pw}@{}/test", host("MYSQL_ADDR")),
        ),
        ("db.internal:5432", host("POSTGRES_ADDR")),
        (
            "host=db.internal port=5432",
            format!("host={}", host("POSTGRES_ADDR").replace(':', " port=")),
        ),
        // The plain cluster's seed lists, in both of beego's separators.
        (
            "127.0.0.1:7001;127.0.0.1:7002;127.0.0.1:7003",
            servers::setting("REDIS_CLUSTER_NODES").replace(',', ";"),
        ),
        (
            "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
            servers::setting("REDIS_CLUSTER_NODES"),
        ),
        (
            "127.0.0.1:26379",
            servers::setting("SENTINELS")
                .split(',')
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        ("127.0.0.1:11211", servers::setting("MEMCACHE_ADDR")),
        ("<at least 32 random bytes>", prefix()),
        ("<beego's securityKey>", prefix()),
        (
            "<beego's blockKey: 16, 24 or 32 bytes>",
            "0123456789abcdef".to_owned(),
        ),
        ("<beego's securityName>", "beegosession".to_owned()),
    ]
}

/// Lines of the docs that mention `sessionproviderconfig =` but are not an
/// app.conf line to run, each with why: `(file, part of the line, reason)`.
const NOT_CONFIG_LINES: &[(&str, &str, &str)] = &[
    (
        "README.md",
        "sessionproviderconfig        = {\"password\":\"<redacted>\"",
        "sample output of `actix-bee config`: the value column, then the origin",
    ),
    (
        "README.md",
        "$ actix-bee check      # sessionproviderconfig = 127.0.0.1:7001,127.0.0.1:7002",
        "a shell comment naming the (deliberately wrong) config of a sample error",
    ),
];

/// Engines whose documented configs are read but not run by `check`, and
/// why. Their forms are covered by the engine's parser tests.
const NOT_RUN: &[(&str, &str)] = &[(
    "couchbase",
    "no Couchbase server runs here (the engine is not in the cli feature either)",
)];

/// A documented `sessionproviderconfig` line: where it is, the nearest
/// `sessionprovider` line above it, and its value.
struct DocExample {
    at: String,
    provider: String,
    config: String,
}

/// The value of an app.conf line `key = value` (any spacing, key in any
/// case), as the loader reads it: everything after the '=', trimmed.
fn conf_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let head = line.get(..key.len())?;
    let rest = line[key.len()..].trim_start();
    (head.eq_ignore_ascii_case(key))
        .then(|| rest.strip_prefix('='))
        .flatten()
        .map(str::trim)
}

/// True for a line that names `sessionproviderconfig` followed by `=`,
/// wherever it stands in the line.
fn mentions_config(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower
        .match_indices("sessionproviderconfig")
        .any(|(i, key)| lower[i + key.len()..].trim_start().starts_with('='))
}

/// Every `sessionproviderconfig` example of README.md, of the Markdown
/// files under docs/ and of the rustdoc (`//!` and `///` lines) under src/:
/// the lines read as app.conf lines, and the lines that mention the key
/// with `=` but could not be read that way and are not in
/// [`NOT_CONFIG_LINES`] (which must be empty). Every exception must match.
fn doc_examples() -> (Vec<DocExample>, Vec<String>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut dirs = vec![root.join("src"), root.join("docs")];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "md") {
                files.push(path);
            }
        }
    }
    let mut examples = Vec::new();
    let mut skipped = Vec::new();
    let mut excepted = vec![0usize; NOT_CONFIG_LINES.len()];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let is_rust = file.extension().is_some_and(|e| e == "rs");
        let mut provider = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_start();
            let line = if is_rust {
                match line
                    .strip_prefix("//!")
                    .or_else(|| line.strip_prefix("///"))
                {
                    Some(doc) => doc.trim(),
                    None => continue,
                }
            } else {
                line.trim()
            };
            let at = format!("{name}:{}", i + 1);
            if let Some(p) = conf_value(line, "sessionprovider") {
                provider = Some(p.to_owned());
            }
            if !mentions_config(line) {
                continue;
            }
            let exception = NOT_CONFIG_LINES
                .iter()
                .position(|(f, part, _)| *f == name && line.contains(part));
            if let Some(e) = exception {
                excepted[e] += 1;
            } else if let Some(config) = conf_value(line, "sessionproviderconfig") {
                let provider = provider
                    .clone()
                    .unwrap_or_else(|| panic!("{at}: no sessionprovider line above"));
                examples.push(DocExample {
                    at,
                    provider,
                    config: config.to_owned(),
                });
            } else {
                skipped.push(format!("{at}: {line}"));
            }
        }
    }
    for ((file, part, _), n) in NOT_CONFIG_LINES.iter().zip(excepted) {
        assert!(n > 0, "NOT_CONFIG_LINES: {file} has no line with {part:?}");
    }
    (examples, skipped)
}

#[test]
fn the_doc_scan_reads_every_spelling_and_flags_the_rest() {
    assert_eq!(
        conf_value("SessionProviderConfig=a b ", "sessionproviderconfig"),
        Some("a b")
    );
    assert_eq!(
        conf_value("sessionproviderconfig   =  x", "sessionproviderconfig"),
        Some("x")
    );
    assert_eq!(
        conf_value("sessionprovider = redis", "sessionproviderconfig"),
        None
    );
    assert_eq!(
        conf_value("sessionproviderconfig = x", "sessionprovider"),
        None
    );
    for flagged in [
        "| `sessionproviderconfig = x` |",
        "$ cmd # sessionproviderconfig = x",
        "SESSIONPROVIDERCONFIG =x",
    ] {
        assert!(mentions_config(flagged), "{flagged}");
    }
    assert!(!mentions_config("`sessionproviderconfig` is a DSN"));
}

#[test]
fn every_documented_provider_config_passes_check() {
    let (examples, skipped) = doc_examples();
    assert!(
        skipped.is_empty(),
        "sessionproviderconfig lines the scan cannot read (write them as app.conf lines, \
         or add them to NOT_CONFIG_LINES with the reason):\n{}",
        skipped.join("\n")
    );
    let engines: std::collections::BTreeSet<&str> =
        examples.iter().map(|e| e.provider.as_str()).collect();
    for engine in [
        "memory",
        "file",
        "cookie",
        "mysql",
        "postgresql",
        "redis",
        "redis_cluster",
        "redis_sentinel",
        "memcache",
    ] {
        assert!(
            engines.contains(engine),
            "no documented example for {engine}"
        );
    }
    for dir in ["src/", "docs/"] {
        assert!(
            examples.iter().any(|e| e.at.starts_with(dir)),
            "no example found under {dir}"
        );
    }
    let map = placeholders();
    let mut failures = Vec::new();
    let mut run = 0;
    for DocExample {
        at,
        provider,
        config,
    } in &examples
    {
        if NOT_RUN.iter().any(|(p, _)| p == provider) {
            continue;
        }
        let mut config = config.clone();
        for (from, to) in &map {
            config = config.replace(from, to);
        }
        let dir = conf(&provider_conf(provider, &config));
        let out = bee(dir.path(), &["check", "app.conf"], &[]);
        run += 1;
        if out.code != 0 {
            failures.push(format!("{at} ({provider}):\n{}{}", out.stdout, out.stderr));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {run} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
