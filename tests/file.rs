//! The file engine: the provider conformance suite, hostile ids, modes,
//! symlinks, corrupt files, writers in two processes, the shard layout and
//! the disk budget.

use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use actix_bee::session::engine::{Format, IdFormat};
use actix_bee::session::file::FileProvider;
use actix_bee::session::{
    Error, IdGenerator, Manager, ManagerConfig, Provider, RequestIds, SessionId,
};

thread_local! {
    /// The test's temporary directories, removed when its thread ends
    /// (every test runs on a thread of its own).
    static SCRATCH: std::cell::RefCell<Vec<tempfile::TempDir>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A temporary directory that lives until the current test ends.
fn scratch() -> PathBuf {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    SCRATCH.with(|keep| keep.borrow_mut().push(dir));
    path
}

async fn file() -> (Box<dyn Provider>, String) {
    let dir = scratch().join("sessions");
    (Box::new(FileProvider::default()), dir.display().to_string())
}

actix_bee::conformance_tests!(file);
actix_bee::conformance_tests!(file, owner_index);

/// Two managers (two processes' worth of engines) on one directory:
/// logins on both racing "log out everywhere" on either leave no session
/// behind, and GC keeps the index of live sessions.
#[actix_rt::test]
async fn owners_race_two_managers_on_one_directory() {
    use actix_bee::session::testing::owners::{login, owners_race_two_managers};
    let dir = scratch().join("sessions");
    let manager = || async {
        let mut config = ManagerConfig::default();
        config.provider_config = dir.display().to_string();
        Manager::with_provider(Box::new(FileProvider::default()), config)
            .await
            .unwrap()
    };
    let (a, b) = (manager().await, manager().await);
    let ended = owners_race_two_managers(&a, &b, "racer", 60).await;
    assert!(ended > 0, "the race ended some sessions");
    // What one manager indexes, the other lists; GC keeps it while it lives.
    let sid = login(&a, "ann").await;
    a.provider().session_gc().await.unwrap();
    let listed = b.sessions_of("ann").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].fingerprint, sid.fingerprint());
    assert_eq!(b.destroy_sessions_of("ann", None).await.unwrap(), 1);
    assert!(!a.provider().session_exist(&sid).await.unwrap());
}

/// The index lives under `owners/<sha256 of the owner>/` (one empty file per
/// id, an `.epoch` file), never names the owner, and a planted entry that
/// is no id is ignored.
#[actix_rt::test]
async fn owners_index_layout_on_disk() {
    use actix_bee::session::testing::owners::login;
    use actix_bee::session::Owner;
    let dir = scratch().join("sessions");
    let mut config = ManagerConfig::default();
    config.provider_config = dir.display().to_string();
    let m = Manager::with_provider(Box::new(FileProvider::default()), config)
        .await
        .unwrap();
    let sid = login(&m, "zoe@example.com").await;
    let owner_dir = dir
        .join("owners")
        .join(Owner::new("zoe@example.com").unwrap().digest());
    let mut names: Vec<String> = std::fs::read_dir(&owner_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [".epoch".to_owned(), sid.as_str().to_owned()]);
    assert_eq!(
        std::fs::metadata(owner_dir.join(sid.as_str()))
            .unwrap()
            .len(),
        0
    );
    assert_eq!(std::fs::metadata(&owner_dir).unwrap().mode() & 0o777, 0o700);
    std::fs::write(owner_dir.join("..%2fescape"), b"").unwrap();
    std::fs::write(owner_dir.join("not.an.id"), b"").unwrap();
    let listed = m.sessions_of("zoe@example.com").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].fingerprint, sid.fingerprint());
}

/// The default `max_session_bytes` (256 KiB), enforced by the skeleton.
#[actix_rt::test]
async fn oversized_session_is_refused() {
    actix_bee::session::testing::oversized_session_is_refused(file).await;
}

async fn provider_at(dir: &Path) -> Arc<dyn Provider> {
    let mut p = FileProvider::default();
    p.session_init(Duration::from_secs(3600), &dir.display().to_string())
        .await
        .expect("session_init");
    Arc::new(p)
}

/// `dir/s[n-2]/s[n-1]/sid`: the native layout shards by the id's tail.
fn session_path(dir: &Path, sid: &SessionId) -> PathBuf {
    let s = sid.as_str();
    let n = s.len();
    dir.join(&s[n - 2..n - 1]).join(&s[n - 1..]).join(s)
}

async fn create(provider: &Arc<dyn Provider>, key: &str, value: i64) -> SessionId {
    let sid = IdGenerator::default().generate().unwrap();
    let store = provider.session_read(&sid).await.unwrap();
    store.set(key, &value).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    sid
}

#[actix_rt::test]
async fn hostile_ids_never_leave_the_directory() {
    let base = scratch();
    let dir = base.join("a").join("b").join("sessions");
    let victim = base.join("a").join("victim");
    std::fs::create_dir_all(base.join("a")).unwrap();
    std::fs::write(&victim, b"precious").unwrap();
    let provider = provider_at(&dir).await;
    let good = create(&provider, "k", 1).await;
    let hostile = [
        "../../victim",
        "..\\victim",
        "..",
        "../..",
        "a",
        "",
        "./x",
        "/etc/passwd",
        "ab/../../../victim",
        "a\0b",
        "%2e%2e%2f",
        "x\ny",
        "é\u{301}",
    ];
    // Ids come only from the parsers: what they refuse never reaches an
    // engine, and what the most lenient one (a sealed token's charset)
    // lets through must be harmless.
    let lenient = IdFormat::Sealed { max_len: 4096 };
    for raw in hostile {
        let Some(sid) = IdGenerator::default().parse_for(raw, lenient) else {
            assert!(IdGenerator::default().parse(raw).is_none(), "{raw:?}");
            continue;
        };
        // Errors are allowed; panics and touching the victim are not.
        let _ = provider.session_read(&sid).await;
        assert!(!provider.session_exist(&sid).await.unwrap_or(false));
        let _ = provider.session_destroy(&sid).await;
        let _ = provider.session_regenerate(&sid, &good).await;
        let fresh = IdGenerator::default().generate().unwrap();
        let _ = provider.session_regenerate(&good, &sid).await;
        let _ = provider.session_regenerate(&sid, &fresh).await;
        assert!(!provider.session_exist(&fresh).await.unwrap());
        // A store for a hostile id cannot write either.
        if let Ok(store) = provider.session_read(&sid).await {
            store.set("k", &1).await.unwrap();
            assert!(store.session_release().await.is_err());
        }
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "{raw:?}");
    }
    provider.session_gc().await.unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 1);
    assert!(provider.session_exist(&good).await.unwrap());
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    let entries: Vec<_> = std::fs::read_dir(base.join("a")).unwrap().collect();
    assert_eq!(
        entries.len(),
        2,
        "only `b` and the victim are beside the tree"
    );
}

#[test]
fn modes_are_0700_and_0600_under_umask_000() {
    // umask is process-wide: run the check in a child process whose shell
    // sets umask 000 before exec'ing this test binary.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" --exact child_modes --nocapture --test-threads=1")
        .arg(&exe)
        .env("ACTIX_BEE_FILE_CHILD", "modes")
        .output()
        .expect("spawn the test binary under umask 000");
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{log}");
    assert!(
        log.contains("umask=0"),
        "the child did not run under umask 000:\n{log}"
    );
}

/// Checks the modes of a fresh tree; run by `modes_are_...` under umask 000
/// and on its own under the ambient umask.
#[actix_rt::test]
async fn child_modes() {
    let umask = Command::new("sh").arg("-c").arg("umask").output().unwrap();
    println!(
        "umask={}",
        u32::from_str_radix(String::from_utf8_lossy(&umask.stdout).trim(), 8).unwrap()
    );
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let sid = create(&provider, "k", 1).await;
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().mode() & 0o777;
    let file = session_path(&dir, &sid);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    assert_eq!(mode(file.parent().unwrap().parent().unwrap()), 0o700);
    assert_eq!(mode(&file), 0o600);
    let lock = file.with_file_name(format!("{}.lock", sid.as_str()));
    assert_eq!(mode(&lock), 0o600);
    // An update rewrites through a new temporary file: still 0600.
    let store = provider.session_read(&sid).await.unwrap();
    store.set("k", &2).await.unwrap();
    store.session_release().await.unwrap();
    assert_eq!(mode(&file), 0o600);
}

#[actix_rt::test]
async fn symlinked_session_file_is_refused() {
    let base = scratch();
    let dir = base.join("sessions");
    let target = base.join("target");
    std::fs::write(&target, b"precious").unwrap();
    let provider = provider_at(&dir).await;
    // A session that exists, whose file is then swapped for a symlink.
    let sid = create(&provider, "k", 1).await;
    let path = session_path(&dir, &sid);
    std::fs::remove_file(&path).unwrap();
    symlink(&target, &path).unwrap();
    assert!(provider.session_read(&sid).await.is_err());
    assert!(provider.session_exist(&sid).await.is_err());
    let store = provider
        .session_regenerate(&sid, &IdGenerator::default().generate().unwrap())
        .await;
    assert!(store.is_err());
    // A fresh id whose path was planted in advance.
    let planted = IdGenerator::default().generate().unwrap();
    let path = session_path(&dir, &planted);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    symlink(&target, &path).unwrap();
    let store = provider.session_read(&planted).await;
    assert!(store.is_err(), "a planted symlink was read");
    provider.session_gc().await.unwrap();
    provider.session_destroy(&planted).await.unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert!(
        std::fs::symlink_metadata(&path).is_err(),
        "destroy unlinks the link itself"
    );
}

#[actix_rt::test]
async fn symlinked_shard_directory_is_refused() {
    let base = scratch();
    let dir = base.join("sessions");
    let outside = base.join("outside");
    std::fs::create_dir(&outside).unwrap();
    let provider = provider_at(&dir).await;
    let sid = IdGenerator::default().generate().unwrap();
    // A second id in another shard, drawn until it is: with one shard per
    // hex digit, two random ids share it 1 time in 16.
    let shard = |id: &SessionId| {
        session_path(&dir, id)
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf()
    };
    let other = loop {
        let candidate = IdGenerator::default().generate().unwrap();
        if shard(&candidate) != shard(&sid) {
            break candidate;
        }
    };
    // A store made before any link is planted.
    let pending = provider.session_read(&other).await.unwrap();
    symlink(&outside, shard(&sid)).unwrap();
    assert!(
        provider.session_read(&sid).await.is_err(),
        "a symlinked shard was followed on read"
    );
    // Writing through the earlier store, once its shard is a link, fails too.
    symlink(&outside, shard(&other)).unwrap();
    pending.set("k", &1).await.unwrap();
    assert!(
        pending.session_release().await.is_err(),
        "a symlinked shard was followed on write"
    );
    provider.session_gc().await.unwrap();
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

#[actix_rt::test]
async fn corrupt_file_is_reported_and_the_manager_starts_afresh() {
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let sid = create(&provider, "k", 1).await;
    let path = session_path(&dir, &sid);
    std::fs::write(&path, b"\x01\xff garbage").unwrap();
    let err = provider.session_read(&sid).await.err().unwrap();
    assert!(err.is_corrupt(), "{err}");
    // Through the manager: a fresh session under a new id, no error.
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = dir.display().to_string();
    let manager = Manager::with_provider(Box::new(FileProvider::default()), cfg)
        .await
        .unwrap();
    let ids = RequestIds {
        cookie: Some(sid.as_str()),
        ..Default::default()
    };
    let session = manager.session_start(&ids).await.unwrap();
    assert_eq!(session.get::<i64>("k").await.unwrap(), None);
    session.set("k", &2).await.unwrap();
    let cookie = manager.session_release(&session).await.unwrap().cookie;
    assert_ne!(cookie.unwrap().value, sid.as_str());
}

#[actix_rt::test]
async fn gc_removes_empty_directories() {
    let dir = scratch().join("sessions");
    let mut p = FileProvider::default();
    p.session_init(Duration::from_secs(1), &dir.display().to_string())
        .await
        .unwrap();
    let provider: Arc<dyn Provider> = Arc::new(p);
    for i in 0..5 {
        create(&provider, "i", i).await;
    }
    tokio::time::sleep(Duration::from_millis(2200)).await;
    provider.session_gc().await.unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 0);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "empty shards left"
    );
}

const KEYS_PER_WRITER: usize = 25;

/// One writer: read, set one key, release, for each of its keys.
async fn write_keys(dir: &Path, sid: &SessionId, tag: &str) {
    let provider = provider_at(dir).await;
    for i in 0..KEYS_PER_WRITER {
        let store = provider.session_read(sid).await.unwrap();
        assert!(!store.meta().is_new, "the shared session vanished");
        store.set(&format!("{tag}-{i}"), &i).await.unwrap();
        assert!(store.session_release().await.unwrap().written);
    }
}

fn child_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A second process's writer. Run alone it writes into its own session.
#[actix_rt::test]
async fn child_writer() {
    let (dir, sid, tag) = match (
        child_env("ACTIX_BEE_FILE_CHILD_DIR"),
        child_env("ACTIX_BEE_FILE_CHILD_SID"),
        child_env("ACTIX_BEE_FILE_CHILD_TAG"),
    ) {
        (Some(d), Some(s), Some(t)) => {
            let sid = IdGenerator::default()
                .parse_for(&s, IdFormat::Sealed { max_len: 4096 })
                .expect("the parent's id");
            (PathBuf::from(d), sid, t)
        }
        _ => {
            let dir = scratch().join("sessions");
            let provider = provider_at(&dir).await;
            let sid = create(&provider, "base", 0).await;
            (dir, sid, "solo".to_string())
        }
    };
    write_keys(&dir, &sid, &tag).await;
    let provider = provider_at(&dir).await;
    let store = provider.session_read(&sid).await.unwrap();
    for i in 0..KEYS_PER_WRITER {
        assert_eq!(
            store.get::<usize>(&format!("{tag}-{i}")).await.unwrap(),
            Some(i)
        );
    }
}

#[actix_rt::test]
async fn writers_in_two_processes_and_threads_lose_nothing() {
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let sid = create(&provider, "base", 0).await;
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["p1", "p2"]
        .iter()
        .map(|tag| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
                .env("ACTIX_BEE_FILE_CHILD_DIR", &dir)
                .env("ACTIX_BEE_FILE_CHILD_SID", sid.as_str())
                .env("ACTIX_BEE_FILE_CHILD_TAG", tag)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn a second process")
        })
        .collect();
    // Meanwhile, two more engine instances on the same directory in this
    // process, on their own threads.
    let threads: Vec<_> = ["t1", "t2"]
        .into_iter()
        .map(|tag| {
            let (dir, sid) = (dir.clone(), sid.clone());
            std::thread::spawn(move || {
                actix_rt::System::new().block_on(write_keys(&dir, &sid, tag));
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    for c in children {
        // The child's own test output stays out of ours unless it failed.
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a child writer failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = provider.session_read(&sid).await.unwrap();
    for tag in ["p1", "p2", "t1", "t2"] {
        for i in 0..KEYS_PER_WRITER {
            assert_eq!(
                store.get::<usize>(&format!("{tag}-{i}")).await.unwrap(),
                Some(i),
                "key {tag}-{i} lost"
            );
        }
    }
    assert_eq!(store.get::<i64>("base").await.unwrap(), Some(0));
}

#[actix_rt::test]
async fn bad_config_is_refused() {
    let mut p = FileProvider::default();
    assert!(p.session_init(Duration::from_secs(60), "").await.is_err());
    let file = scratch().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let mut p = FileProvider::default();
    assert!(p
        .session_init(Duration::from_secs(60), &file.display().to_string())
        .await
        .is_err());
}

#[actix_rt::test]
async fn existing_loose_directory_is_tightened() {
    let dir = scratch().join("loose");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    provider_at(&dir).await;
    assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
}

/// A manager on `dir` whose ids carry `sessionidprefix = prefix`.
async fn prefixed_manager(dir: &Path, prefix: &str, format: Format) -> Manager {
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = dir.display().to_string();
    cfg.session_id_prefix = prefix.to_owned();
    cfg.store_format = format;
    if format == Format::Beego {
        cfg.session_id_hash_func = actix_bee::session::HashFunc::None;
    }
    Manager::new("file", cfg).await.unwrap()
}

/// With a `sessionidprefix`, sessions still spread over the shard
/// directories: they come from the random tail of the id. The beego format
/// keeps beego's `s[0]/s[1]` layout, prefix included, as beego does.
#[actix_rt::test]
async fn shards_come_from_the_random_part_of_prefixed_ids() {
    for (format, spread) in [(Format::Native, true), (Format::Beego, false)] {
        let dir = scratch().join("sessions");
        let manager = prefixed_manager(&dir, "shop", format).await;
        let mut shards = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let s = manager.session_start(&RequestIds::default()).await.unwrap();
            s.set("k", &1).await.unwrap();
            manager.session_release(&s).await.unwrap();
            let sid = s.session_id().await.unwrap();
            let id = sid.as_str();
            let path = if format == Format::Beego {
                dir.join(&id[0..1]).join(&id[1..2]).join(id)
            } else {
                session_path(&dir, &sid)
            };
            assert!(path.is_file(), "{format:?}: no file at {}", path.display());
            shards.insert(path.parent().unwrap().to_path_buf());
        }
        if spread {
            // 40 random tails over 256 shards: all in one has odds 256^-39.
            assert!(shards.len() > 10, "{} shards for 40 sessions", shards.len());
        } else {
            assert_eq!(
                shards.len(),
                1,
                "beego's layout: the prefix picks the shard"
            );
        }
    }
}

async fn provider_with(dir: &Path, options: &str) -> Arc<dyn Provider> {
    let mut p = FileProvider::default();
    p.session_init(
        Duration::from_secs(3600),
        &format!("{}?{options}", dir.display()),
    )
    .await
    .expect("session_init");
    Arc::new(p)
}

async fn try_create(provider: &Arc<dyn Provider>, value: &str) -> Result<SessionId, Error> {
    let sid = IdGenerator::default().generate().unwrap();
    let store = provider.session_new(&sid).await.unwrap();
    store.set("v", &value).await.unwrap();
    store.session_release().await.map(|_| sid)
}

fn session_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for a in std::fs::read_dir(dir).unwrap().flatten() {
        for b in std::fs::read_dir(a.path()).unwrap().flatten() {
            for f in std::fs::read_dir(b.path()).unwrap().flatten() {
                let name = f.file_name().into_string().unwrap();
                if !name.ends_with(".lock") {
                    out.push(f.path());
                }
            }
        }
    }
    out
}

/// Past `max_sessions` a new session is refused with `Full` (a 503), and
/// the sessions already there keep working: read, written, regenerated.
/// A destroy frees a slot, a restart counts what is on disk, and GC of
/// expired sessions frees room.
#[actix_rt::test]
async fn past_max_sessions_new_sessions_are_refused_and_old_ones_work() {
    let dir = scratch().join("sessions");
    let provider = provider_with(&dir, "max_sessions=20").await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(try_create(&provider, "user").await.unwrap());
    }
    for _ in 0..50 {
        let err = try_create(&provider, "flood").await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Full {
                    engine: "file",
                    what: "sessions",
                    limit: 20
                }
            ),
            "{err}"
        );
        assert!(err.is_transient(), "a full engine is a 503");
    }
    assert_eq!(session_files(&dir).len(), 20);
    // Every signed-in user still works: update, regenerate.
    let store = provider.session_read(&ids[0]).await.unwrap();
    store.set("v", &"changed").await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    let moved = IdGenerator::default().generate().unwrap();
    let store = provider.session_regenerate(&ids[1], &moved).await.unwrap();
    assert_eq!(
        store.get::<String>("v").await.unwrap().as_deref(),
        Some("user")
    );
    // A destroy frees one slot.
    provider.session_destroy(&ids[2]).await.unwrap();
    try_create(&provider, "one more").await.unwrap();
    assert!(try_create(&provider, "flood").await.is_err());
    // A restart counts the files on disk.
    let again = provider_with(&dir, "max_sessions=20").await;
    assert!(matches!(
        try_create(&again, "flood").await,
        Err(Error::Full { .. })
    ));
    // GC of idle sessions frees room: seen with an idle lifetime of 1 s.
    let mut short = FileProvider::default();
    short
        .session_init(
            Duration::from_secs(1),
            &format!("{}?max_sessions=20", dir.display()),
        )
        .await
        .unwrap();
    let short: Arc<dyn Provider> = Arc::new(short);
    assert!(try_create(&short, "flood").await.is_err());
    actix_rt::time::sleep(Duration::from_millis(2100)).await;
    short.session_gc().await.unwrap();
    assert!(session_files(&dir).is_empty());
    try_create(&short, "after gc").await.unwrap();
}

/// Past `max_bytes` new sessions and growing writes are refused with
/// `Full`; the files stay within the budget and a shrinking write passes.
#[actix_rt::test]
async fn past_max_bytes_growth_is_refused() {
    let dir = scratch().join("sessions");
    let provider = provider_with(&dir, "max_bytes=8192").await;
    let value = "x".repeat(1000);
    let mut made = Vec::new();
    let err = loop {
        match try_create(&provider, &value).await {
            Ok(sid) => made.push(sid),
            Err(e) => break e,
        }
        assert!(made.len() < 20, "no byte budget");
    };
    assert!(
        matches!(
            err,
            Error::Full {
                what: "bytes",
                limit: 8192,
                ..
            }
        ),
        "{err}"
    );
    assert!(made.len() >= 6, "{} sessions of ~1 KB in 8 KiB", made.len());
    let on_disk: u64 = session_files(&dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(on_disk <= 8192, "{on_disk} bytes on disk");
    let store = provider.session_read(&made[0]).await.unwrap();
    store.set("v", &"x".repeat(9000)).await.unwrap();
    assert!(matches!(
        store.session_release().await,
        Err(Error::Full { what: "bytes", .. })
    ));
    let store = provider.session_read(&made[0]).await.unwrap();
    store.set("v", &"small").await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    try_create(&provider, "fits now").await.unwrap();
}

/// `max_session_bytes` is an option of the file engine too.
#[actix_rt::test]
async fn max_session_bytes_is_configurable() {
    let dir = scratch().join("sessions");
    let provider = provider_with(&dir, "max_session_bytes=1024").await;
    try_create(&provider, &"x".repeat(500)).await.unwrap();
    let err = try_create(&provider, &"x".repeat(2000)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "session",
                limit: 1024,
                ..
            }
        ),
        "{err}"
    );
    let mut p = FileProvider::default();
    let err = p
        .session_init(
            Duration::from_secs(60),
            &format!("{}?bogus=1", dir.display()),
        )
        .await
        .unwrap_err();
    assert!(err.is_config(), "{err}");
}

/// Through the web layer: cookie-less clients past `max_sessions` get a
/// 503 and leave no file behind, while a client with a session keeps
/// being served.
#[actix_rt::test]
async fn a_flood_of_new_clients_gets_503_and_existing_users_are_served() {
    use actix_bee::session::Session;
    use actix_bee::web::SessionMiddleware;
    use actix_web::{test, web, App};

    let dir = scratch().join("sessions");
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = format!("{}?max_sessions=10", dir.display());
    let manager = Manager::new("file", cfg).await.unwrap();
    let app = test::init_service(App::new().wrap(SessionMiddleware::new(manager)).route(
        "/count",
        web::get().to(|s: Session| async move {
            let n = s.get::<i64>("n").await?.unwrap_or(0) + 1;
            s.set("n", &n).await?;
            Ok::<_, Error>(n.to_string())
        }),
    ))
    .await;
    let fresh = || test::TestRequest::get().uri("/count").to_request();
    let res = test::call_service(&app, fresh()).await;
    assert_eq!(res.status(), 200);
    let cookie = res.response().cookies().next().unwrap().value().to_owned();
    for _ in 0..9 {
        assert_eq!(test::call_service(&app, fresh()).await.status(), 200);
    }
    for _ in 0..30 {
        assert_eq!(test::call_service(&app, fresh()).await.status(), 503);
    }
    assert_eq!(session_files(&dir).len(), 10);
    for n in 2..5 {
        let req = test::TestRequest::get()
            .uri("/count")
            .insert_header(("cookie", format!("beegosessionID={cookie}")))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        assert_eq!(test::read_body(res).await, n.to_string().as_bytes());
    }
}

/// Files in the shard of the other layout (native sessions of a version
/// that sharded by the first characters) are out of reach of requests:
/// not counted, and removed by GC once idle past the lifetime.
#[actix_rt::test]
async fn gc_removes_idle_files_left_by_the_other_layout() {
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let kept = create(&provider, "k", 1).await;
    // An id whose first two characters differ from its last two.
    let stray = loop {
        let id = IdGenerator::default().generate().unwrap();
        let s = id.as_str();
        if s[0..2] != s[s.len() - 2..] {
            break id;
        }
    };
    let s = stray.as_str();
    let head = dir.join(&s[0..1]).join(&s[1..2]);
    std::fs::create_dir_all(&head).unwrap();
    std::fs::copy(session_path(&dir, &kept), head.join(s)).unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 1);
    provider.session_gc().await.unwrap();
    assert!(head.join(s).exists(), "a recent stray file is left alone");
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    let f = std::fs::File::options()
        .write(true)
        .open(head.join(s))
        .unwrap();
    f.set_modified(old).unwrap();
    provider.session_gc().await.unwrap();
    assert!(!head.join(s).exists(), "an idle stray file is removed");
    assert!(session_path(&dir, &kept).exists());
}

/// GC prunes ids whose session is gone once past the attach grace (five
/// minutes; the files are backdated), keeps those of live sessions, and
/// removes an owner's directory once it is empty and its epoch is idle.
#[actix_rt::test]
async fn owners_gc_prunes_the_index_and_idle_owners() {
    use actix_bee::session::testing::owners::login;
    use actix_bee::session::Owner;
    let dir = scratch().join("sessions");
    let mut config = ManagerConfig::default();
    config.provider_config = dir.display().to_string();
    config.max_lifetime = 60;
    let m = Manager::with_provider(Box::new(FileProvider::default()), config)
        .await
        .unwrap();
    let backdate = |path: &Path| {
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    };
    let owner_dir = |o: &str| dir.join("owners").join(Owner::new(o).unwrap().digest());
    let live = login(&m, "liv").await;
    let gone = login(&m, "gus").await;
    // Gone behind the index's back (as a crash between the two would).
    m.provider().session_destroy(&gone).await.unwrap();
    backdate(&owner_dir("liv").join(live.as_str()));
    backdate(&owner_dir("gus").join(gone.as_str()));
    m.provider().session_gc().await.unwrap();
    assert!(
        owner_dir("liv").join(live.as_str()).exists(),
        "a live id is kept"
    );
    assert!(
        !owner_dir("gus").join(gone.as_str()).exists(),
        "a gone id is pruned"
    );
    assert!(
        owner_dir("gus").exists(),
        "the epoch stays while it is recent"
    );
    backdate(&owner_dir("gus").join(".epoch"));
    m.provider().session_gc().await.unwrap();
    assert!(!owner_dir("gus").exists(), "an idle owner goes");
    assert_eq!(m.sessions_of("liv").await.unwrap().len(), 1);
    // A new login of the owner starts a new epoch and works.
    let again = login(&m, "gus").await;
    assert_eq!(
        m.sessions_of("gus").await.unwrap()[0].fingerprint,
        again.fingerprint()
    );
}

/// Every regular file under `dir`, session and lock files alike.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let kind = e.file_type().unwrap();
            if kind.is_dir() {
                dirs.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// A destroy racing a write never brings the session back, also when the
/// session has no lock file (sessions a beego app wrote, or whose lock
/// beego's GC removed).
#[actix_rt::test]
async fn a_destroy_racing_a_write_without_a_lock_file_stays_destroyed() {
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let mut resurrected = 0;
    for round in 0..400 {
        let sid = create(&provider, "v", round).await;
        let lock = session_path(&dir, &sid).with_extension("lock");
        std::fs::remove_file(&lock).unwrap();
        let store = provider.session_read(&sid).await.unwrap();
        store.set("w", &round).await.unwrap();
        let (written, destroyed) =
            futures_util::future::join(store.session_release(), provider.session_destroy(&sid))
                .await;
        written.unwrap();
        destroyed.unwrap();
        if provider.session_exist(&sid).await.unwrap() {
            resurrected += 1;
            provider.session_destroy(&sid).await.unwrap();
        }
    }
    assert_eq!(resurrected, 0, "destroyed sessions came back");
    let left = all_files(&dir);
    assert!(
        left.is_empty(),
        "{} files left: {:?}",
        left.len(),
        &left[..left.len().min(4)]
    );
}

/// A directory at `max_sessions` refuses new sessions without leaving
/// anything on disk for them: no session file, no lock file.
#[actix_rt::test]
async fn refused_sessions_leave_no_lock_files() {
    let dir = scratch().join("sessions");
    let provider = provider_with(&dir, "max_sessions=1").await;
    let kept = try_create(&provider, "user").await.unwrap();
    for _ in 0..1000 {
        let err = try_create(&provider, "flood").await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Full {
                    what: "sessions",
                    ..
                }
            ),
            "{err}"
        );
    }
    let files = all_files(&dir);
    assert_eq!(
        files.len(),
        2,
        "only the kept session and its lock, not {:?}",
        &files[..files.len().min(4)]
    );
    let kept_file = session_path(&dir, &kept);
    assert!(files.contains(&kept_file));
    assert!(files.contains(&kept_file.with_extension("lock")));
}

/// An id in the same shard directory as `sid` (same last two characters).
fn id_in_shard_of(sid: &SessionId) -> SessionId {
    let tail = &sid.as_str()[sid.as_str().len() - 2..];
    loop {
        let candidate = IdGenerator::default().generate().unwrap();
        if candidate.as_str().ends_with(tail) && candidate != *sid {
            return candidate;
        }
    }
}

/// The engine holds its shard directories open. When another process
/// removes one (its GC, once the directory is empty) and a session is then
/// written into a new directory of the same name, this engine finds it,
/// updates it there and destroys it there: never a stale directory.
#[actix_rt::test]
async fn a_shard_directory_replaced_by_another_process_is_followed() {
    let dir = scratch().join("sessions");
    let here = provider_at(&dir).await;
    let first = create(&here, "k", 1).await;
    let shard = session_path(&dir, &first).parent().unwrap().to_path_buf();
    // The other process: the shard emptied and removed, then made again
    // with a session of its own in it.
    std::fs::remove_file(session_path(&dir, &first)).unwrap();
    std::fs::remove_file(session_path(&dir, &first).with_extension("lock")).unwrap();
    std::fs::remove_dir(&shard).unwrap();
    let there = provider_at(&dir).await;
    let second = id_in_shard_of(&first);
    let store = there.session_read(&second).await.unwrap();
    store.set("k", &2).await.unwrap();
    assert!(store.session_release().await.unwrap().written);

    assert!(here.session_exist(&second).await.unwrap(), "not found");
    let store = here.session_read(&second).await.unwrap();
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(2));
    store.set("mine", &3).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
    let seen = there.session_read(&second).await.unwrap();
    assert_eq!(seen.get::<i64>("mine").await.unwrap(), Some(3), "lost");
    here.session_destroy(&second).await.unwrap();
    assert!(!there.session_exist(&second).await.unwrap(), "came back");
    assert!(all_files(&dir).is_empty(), "{:?}", all_files(&dir));
}

/// Sets `n` in the session `sid` and writes it.
async fn set_one(provider: Arc<dyn Provider>, sid: SessionId, n: i64) {
    let store = provider.session_read(&sid).await.unwrap();
    store.set("n", &n).await.unwrap();
    assert!(store.session_release().await.unwrap().written);
}

/// A rewrite swaps the session file with its spare: after many writes the
/// session has used two inodes, none made or freed per write, and a
/// destroy leaves nothing behind.
#[actix_rt::test]
async fn rewrites_reuse_two_inodes() {
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let sid = create(&provider, "n", 0).await;
    let path = session_path(&dir, &sid);
    let mut inodes = std::collections::BTreeSet::new();
    for n in 1..=20i64 {
        // Long and short in turn: a spare longer than the new content is
        // cut to it, so nothing of the old one is left past the end.
        let store = provider.session_read(&sid).await.unwrap();
        store
            .set("pad", &"p".repeat(((n % 2) * 3000) as usize))
            .await
            .unwrap();
        store.session_release().await.unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len() < 3000, n % 2 == 0, "stale bytes past the end");
        inodes.insert(meta.ino());
        set_one(provider.clone(), sid.clone(), n).await;
        let store = provider.session_read(&sid).await.unwrap();
        let pad: String = store.get("pad").await.unwrap().unwrap();
        assert_eq!(pad.len(), ((n % 2) * 3000) as usize);
        inodes.insert(std::fs::metadata(&path).unwrap().ino());
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    }
    assert_eq!(inodes.len(), 2, "inodes used: {inodes:?}");
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("n").await.unwrap(), Some(20));
    provider.session_destroy(&sid).await.unwrap();
    assert!(all_files(&dir).is_empty(), "{:?}", all_files(&dir));
}

/// A reader holding the session file it opened keeps reading that
/// content whole: the write that would refill that inode as its spare
/// waits for the reader (a shared `flock`, as the engine's readers take).
#[actix_rt::test]
async fn a_rewrite_waits_for_a_reader_of_the_inode_it_refills() {
    use std::io::Read as _;
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let sid = create(&provider, "n", 0).await;
    let write = |n: i64| set_one(provider.clone(), sid.clone(), n);
    // The reader: the session file as it is now, under a shared lock.
    let mut reader = std::fs::File::open(session_path(&dir, &sid)).unwrap();
    rustix::fs::flock(&reader, rustix::fs::FlockOperation::LockShared).unwrap();
    let before = std::fs::read(session_path(&dir, &sid)).unwrap();
    // The first write fills the other inode and swaps: no wait.
    tokio::time::timeout(Duration::from_secs(5), write(1))
        .await
        .expect("a write waited with no reader in its way");
    // The second would refill the reader's inode: it waits.
    let second = tokio::spawn(write(2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the reader's inode was rewritten");
    let mut seen = Vec::new();
    reader.read_to_end(&mut seen).unwrap();
    assert_eq!(seen, before, "the reader saw another content");
    drop(reader);
    tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the write still waits once the reader is gone")
        .unwrap();
    let store = provider.session_read(&sid).await.unwrap();
    assert_eq!(store.get::<i64>("n").await.unwrap(), Some(2));
}

/// A read that finds the session file locked by a writer (as a spare
/// being refilled is) does not read past the lock: it waits, off the
/// async worker, and then reads the file whole.
#[actix_rt::test]
async fn a_read_waits_for_a_writer_holding_the_file_it_opened() {
    let dir = scratch().join("sessions");
    let provider = provider_at(&dir).await;
    let sid = create(&provider, "n", 7).await;
    let held = std::fs::File::open(session_path(&dir, &sid)).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let read = {
        let (provider, sid) = (provider.clone(), sid.clone());
        tokio::spawn(async move {
            let store = provider.session_read(&sid).await.unwrap();
            store.get::<i64>("n").await.unwrap()
        })
    };
    // The worker stays free while the read waits: this timer fires.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!read.is_finished(), "the read went past a writer's lock");
    drop(held);
    let value = tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("the read still waits once the lock is gone")
        .unwrap();
    assert_eq!(value, Some(7));
}
