//! The cookie engine: the conformance cases of a client-side engine
//! (`client_side`), and cookie-specific tests in place of the others.
//!
//! What `client_side` leaves out, and why (each has a cookie-specific
//! replacement below):
//! - `regenerate_moves_data`, `destroy_removes`,
//!   `no_resurrection_after_destroy`, `manager_regenerate_and_destroy`,
//!   `manager_regenerate_carries_pending_changes`: they
//!   assert that an old or destroyed id is dead server-side. The cookie
//!   engine keeps no server state, so a copied cookie stays valid until it
//!   expires (documented); see `regenerate_*`, `destroy_*`.
//! - `concurrent_writers_keep_all_keys`: the state is in the client; two
//!   requests each seal their own view and the browser keeps the last
//!   cookie, so there is nothing to merge.
//! - `session_all_counts_1000`, `idle_expiry_and_gc`,
//!   `gc_removes_only_expired`: `session_all` is 0 and GC does nothing by
//!   design; expiry is checked on open (`idle_expiry_is_inside_the_cookie`).
//!
//! The data cases run through `Browser`, which plays the client: it keeps
//! the latest cookie each release hands out and sends it back on the next
//! read, so the suite's fixed ids map to the real sealed cookies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_bee::session::cookie::CookieProvider;
use actix_bee::session::engine::{IdFormat, Released, StoreMeta};
use actix_bee::session::testing::{self, Made};
use actix_bee::session::{
    Error, IdGenerator, Manager, ManagerConfig, Provider, RequestIds, SessionId, Store,
};
use async_trait::async_trait;
use parking_lot::Mutex;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};

const K1: &str = "first secret key, at least thirty-two bytes long";
const K2: &str = "second secret key, at least thirty-two bytes long";

fn config(keys: &[&str]) -> String {
    serde_json::json!({ "securityKeys": keys, "cookieName": "beegosessionID" }).to_string()
}

type Jar = Arc<Mutex<HashMap<String, String>>>;

/// Plays the browser around the real engine.
struct Browser {
    inner: CookieProvider,
    jar: Jar,
}

impl Browser {
    fn token(&self, sid: &SessionId) -> SessionId {
        match self.jar.lock().get(sid.as_str()) {
            Some(t) => sealed(t),
            None => sid.clone(),
        }
    }

    fn wrap(&self, sid: &SessionId, inner: Arc<dyn Store>) -> Arc<dyn Store> {
        Arc::new(BrowserStore {
            inner,
            sid: sid.clone(),
            jar: self.jar.clone(),
        })
    }
}

struct BrowserStore {
    inner: Arc<dyn Store>,
    sid: SessionId,
    jar: Jar,
}

impl BrowserStore {
    fn keep(
        &self,
        r: actix_bee::session::Result<Released>,
    ) -> actix_bee::session::Result<Released> {
        if let Ok(Released {
            cookie_value: Some(v),
            ..
        }) = &r
        {
            self.jar
                .lock()
                .insert(self.sid.as_str().to_owned(), v.clone());
        }
        r
    }
}

#[async_trait]
impl Store for BrowserStore {
    async fn set_value(&self, key: &str, value: Vec<u8>) -> actix_bee::session::Result<()> {
        self.inner.set_value(key, value).await
    }
    async fn get_value(&self, key: &str) -> actix_bee::session::Result<Option<Vec<u8>>> {
        self.inner.get_value(key).await
    }
    async fn delete(&self, key: &str) -> actix_bee::session::Result<()> {
        self.inner.delete(key).await
    }
    async fn flush(&self) -> actix_bee::session::Result<()> {
        self.inner.flush().await
    }
    fn session_id(&self) -> SessionId {
        self.sid.clone()
    }
    fn meta(&self) -> StoreMeta {
        self.inner.meta()
    }
    async fn session_release(&self) -> actix_bee::session::Result<Released> {
        let r = self.inner.session_release().await;
        self.keep(r)
    }
    async fn session_release_if_present(&self) -> actix_bee::session::Result<Released> {
        let r = self.inner.session_release_if_present().await;
        self.keep(r)
    }
}

#[async_trait]
impl Provider for Browser {
    async fn session_init(&mut self, idle: Duration, cfg: &str) -> actix_bee::session::Result<()> {
        self.inner.session_init(idle, cfg).await
    }
    async fn session_read(&self, sid: &SessionId) -> actix_bee::session::Result<Arc<dyn Store>> {
        let store = self.inner.session_read(&self.token(sid)).await?;
        Ok(self.wrap(sid, store))
    }
    async fn session_exist(&self, sid: &SessionId) -> actix_bee::session::Result<bool> {
        self.inner.session_exist(&self.token(sid)).await
    }
    async fn session_regenerate(
        &self,
        old: &SessionId,
        new: &SessionId,
    ) -> actix_bee::session::Result<Arc<dyn Store>> {
        let store = self.inner.session_regenerate(&self.token(old), new).await?;
        Ok(self.wrap(new, store))
    }
    async fn session_destroy(&self, sid: &SessionId) -> actix_bee::session::Result<()> {
        let token = self.token(sid);
        self.jar.lock().remove(sid.as_str());
        self.inner.session_destroy(&token).await
    }
    async fn session_all(&self) -> actix_bee::session::Result<usize> {
        self.inner.session_all().await
    }
    async fn session_gc(&self) -> actix_bee::session::Result<()> {
        self.inner.session_gc().await
    }
    fn id_format(&self) -> IdFormat {
        self.inner.id_format()
    }
}

async fn browser() -> Made {
    (
        Box::new(Browser {
            inner: CookieProvider::default(),
            jar: Jar::default(),
        }),
        config(&[K1]),
    )
}

actix_bee::conformance_tests!(browser, client_side);

async fn provider(keys: &[&str], idle: Duration) -> Arc<dyn Provider> {
    let mut p = CookieProvider::default();
    p.session_init(idle, &config(keys))
        .await
        .expect("session_init");
    Arc::new(p)
}

/// Seals a session holding `k = v` and returns the cookie value.
async fn seal(p: &Arc<dyn Provider>, v: i64) -> String {
    let store = p
        .session_read(&IdGenerator::default().generate().unwrap())
        .await
        .unwrap();
    store.set("k", &v).await.unwrap();
    store.session_release().await.unwrap().cookie_value.unwrap()
}

/// The id of a token the engine sealed, checked as the manager checks it.
fn sealed(token: &str) -> SessionId {
    checked(token).expect("a sealed token")
}

/// `token` as the manager takes it from a cookie: `None` when the id
/// check refuses it before any engine call.
fn checked(token: &str) -> Option<SessionId> {
    IdGenerator::default().parse_for(token, IdFormat::Sealed { max_len: 4096 })
}

/// The session a request carrying `token` gets: the engine's answer, or
/// a new session when the id check refuses the token (as the manager
/// does, without calling the engine).
async fn open(p: &Arc<dyn Provider>, token: &str) -> Arc<dyn Store> {
    let id = match checked(token) {
        Some(id) => id,
        None => IdGenerator::default().generate().unwrap(),
    };
    p.session_read(&id).await.unwrap()
}

#[actix_rt::test]
async fn id_format_is_sealed_and_cookie_safe() {
    let p = provider(&[K1], testing::LONG).await;
    assert_eq!(p.id_format(), IdFormat::Sealed { max_len: 4096 });
    let token = seal(&p, 1).await;
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(IdGenerator::default()
        .parse_for(&token, p.id_format())
        .is_some());
    assert!(p.session_exist(&sealed(&token)).await.unwrap());
    assert_eq!(
        open(&p, &token).await.get::<i64>("k").await.unwrap(),
        Some(1)
    );
    assert_eq!(p.session_all().await.unwrap(), 0, "documented: always 0");
    p.session_gc().await.unwrap();
}

#[actix_rt::test]
async fn sealing_the_same_state_twice_differs() {
    let p = provider(&[K1], testing::LONG).await;
    let base = seal(&p, 1).await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let store = open(&p, &base).await;
        store.set("k", &2).await.unwrap();
        tokens.push(store.session_release().await.unwrap().cookie_value.unwrap());
    }
    assert_ne!(tokens[0], tokens[1]);
    for t in &tokens {
        assert_eq!(open(&p, t).await.get::<i64>("k").await.unwrap(), Some(2));
    }
}

/// Idle lifetime 6 s: `used` is refreshed at 4.5 s (a refresh is due after
/// 1.5 s), both are checked at 8.5 s: `idle` is 2.5 s past its lifetime,
/// the refreshed cookie 2 s short of it.
#[actix_rt::test]
async fn idle_expiry_is_inside_the_cookie() {
    let p = provider(&[K1], Duration::from_secs(6)).await;
    let idle = seal(&p, 1).await;
    let used = seal(&p, 2).await;
    tokio::time::sleep(Duration::from_millis(4500)).await;
    // A read-only request reseals once a refresh is due: a new cookie.
    let store = open(&p, &used).await;
    let refreshed = store.session_release().await.unwrap().cookie_value.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    // The idle cookie still decrypts, but its last access is too old.
    assert!(!p.session_exist(&sealed(&idle)).await.unwrap());
    assert!(open(&p, &idle).await.meta().is_new);
    assert_eq!(
        open(&p, &refreshed).await.get::<i64>("k").await.unwrap(),
        Some(2)
    );
}

#[actix_rt::test]
async fn key_rotation() {
    let old = provider(&[K1], testing::LONG).await;
    let token = seal(&old, 7).await;
    // Restart with [K2, K1]: accepted, and resealed under K2 at once.
    let rotated = provider(&[K2, K1], testing::LONG).await;
    let store = open(&rotated, &token).await;
    assert_eq!(store.get::<i64>("k").await.unwrap(), Some(7));
    let resealed = store.session_release().await.unwrap().cookie_value;
    let resealed = resealed.expect("a cookie opened with an old key is resealed");
    let k2_only = provider(&[K2], testing::LONG).await;
    assert_eq!(
        open(&k2_only, &resealed)
            .await
            .get::<i64>("k")
            .await
            .unwrap(),
        Some(7)
    );
    // Restart with [K2] alone: the K1 cookie is a new session.
    assert!(open(&k2_only, &token).await.meta().is_new);
    // `oldKeys` is the other spelling of the ring.
    let mut p = CookieProvider::default();
    let cfg = serde_json::json!({ "SecurityKey": K2, "OLDKEYS": [K1] }).to_string();
    p.session_init(testing::LONG, &cfg).await.unwrap();
    let p: Arc<dyn Provider> = Arc::new(p);
    assert_eq!(
        open(&p, &token).await.get::<i64>("k").await.unwrap(),
        Some(7)
    );
}

#[actix_rt::test]
async fn missing_or_short_keys_are_startup_errors() {
    for cfg in [
        String::new(),
        "{}".to_string(),
        r#"{"securityKey": ""}"#.to_string(),
        r#"{"securityKey": "short"}"#.to_string(),
        config(&[K1, "short"]),
        "not json".to_string(),
    ] {
        let mut p = CookieProvider::default();
        let err = p.session_init(testing::LONG, &cfg).await.unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{cfg}: {err}");
    }
    let err = Manager::new("cookie", ManagerConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }));
    // Explicit development mode: a random key, with a warning.
    let mut p = CookieProvider::default();
    p.session_init(testing::LONG, r#"{"devMode": true}"#)
        .await
        .unwrap();
}

/// Hex or base64 of 64 bytes is the key itself, not text to derive from:
/// the same 64 bytes written either way open each other's cookies.
#[actix_rt::test]
async fn encoded_64_byte_keys_are_used_as_the_key_itself() {
    use base64::Engine as _;
    let raw: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    let as_hex = hex::encode(&raw);
    let as_base64 = base64::engine::general_purpose::STANDARD.encode(&raw);
    let by_hex = provider(&[&as_hex], testing::LONG).await;
    let by_base64 = provider(&[&as_base64], testing::LONG).await;
    let token = seal(&by_hex, 7).await;
    assert_eq!(
        open(&by_base64, &token)
            .await
            .get::<i64>("k")
            .await
            .unwrap(),
        Some(7),
        "hex and base64 of one key disagree: one of them was derived from its text"
    );
    let token = seal(&by_base64, 8).await;
    assert_eq!(
        open(&by_hex, &token).await.get::<i64>("k").await.unwrap(),
        Some(8)
    );
    // A different 64-byte key does not open them.
    let other = provider(&[&"cd".repeat(64)], testing::LONG).await;
    assert!(open(&other, &token).await.meta().is_new);
}

async fn named_provider(key: &str, cookie_name: &str) -> Arc<dyn Provider> {
    let cfg = serde_json::json!({ "securityKey": key, "cookieName": cookie_name }).to_string();
    let mut p = CookieProvider::default();
    p.session_init(testing::LONG, &cfg)
        .await
        .expect("session_init");
    Arc::new(p)
}

#[actix_rt::test]
async fn passphrases_are_stretched_per_cookie_name() {
    // Two processes of one deployment: same passphrase, same cookie name.
    let a = named_provider(K1, "appsession").await;
    let b = named_provider(K1, "appsession").await;
    let token = seal(&a, 11).await;
    assert_eq!(
        open(&b, &token).await.get::<i64>("k").await.unwrap(),
        Some(11)
    );
    // Another app with the same passphrase but its own cookie name does not
    // open it (its key differs too: see the unit tests in `native.rs`).
    let other = named_provider(K1, "othersession").await;
    assert!(open(&other, &token).await.meta().is_new);

    // The old derivation (HKDF of the text, `Key::derive_from`) is gone: a
    // cookie sealed under it no longer opens (a one-time logout).
    let hkdf = hex::encode(actix_web::cookie::Key::derive_from(K1.as_bytes()).master());
    let old = named_provider(&hkdf, "appsession").await;
    let old_token = seal(&old, 12).await;
    assert!(open(&a, &old_token).await.meta().is_new);
    assert!(open(&old, &token).await.meta().is_new);

    // A hex key is still the key itself.
    let hex_a = named_provider(&"ab".repeat(64), "appsession").await;
    let hex_b = named_provider(&"ab".repeat(64), "appsession").await;
    let token = seal(&hex_a, 13).await;
    assert_eq!(
        open(&hex_b, &token).await.get::<i64>("k").await.unwrap(),
        Some(13)
    );
}

#[actix_rt::test]
async fn too_large_is_an_error_never_a_dropped_cookie() {
    let p = provider(&[K1], testing::LONG).await;
    let store = p
        .session_read(&IdGenerator::default().generate().unwrap())
        .await
        .unwrap();
    store.set("big", &"x".repeat(5 * 1024)).await.unwrap();
    let err = store.session_release().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "cookie",
                limit: 4096,
                ..
            }
        ),
        "{err}"
    );
    // Something that fits still works, and stays within 4096 with its name.
    let store = p
        .session_read(&IdGenerator::default().generate().unwrap())
        .await
        .unwrap();
    store.set("fits", &"x".repeat(2500)).await.unwrap();
    let token = store.session_release().await.unwrap().cookie_value.unwrap();
    assert!(token.len() + "beegosessionID=".len() <= 4096);
    // Through the manager the handler's release fails, nothing is sent.
    let m = Manager::with_provider(Box::new(CookieProvider::default()), cookie_config())
        .await
        .unwrap();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("big", &"x".repeat(5 * 1024)).await.unwrap();
    assert!(matches!(
        m.session_release(&s).await,
        Err(Error::TooLarge { .. })
    ));
    // Oversized input is rejected before decoding.
    assert!(open(&p, &"A".repeat(5000)).await.meta().is_new);
}

fn cookie_config() -> ManagerConfig {
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = config(&[K1]);
    cfg
}

async fn cookie_manager() -> Manager {
    Manager::with_provider(Box::new(CookieProvider::default()), cookie_config())
        .await
        .unwrap()
}

#[actix_rt::test]
async fn regenerate_keeps_data_and_sends_one_new_cookie() {
    let m = cookie_manager().await;
    // Set, then regenerate in the same request (a login on a fresh session).
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("user", "astaxie").await.unwrap();
    s.regenerate_id().await.unwrap();
    s.set("after", &1).await.unwrap();
    let first = m.session_release(&s).await.unwrap().cookie.unwrap();
    let ids = RequestIds {
        cookie: Some(&first.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    assert_eq!(s.get::<i32>("after").await.unwrap(), Some(1));
    // A loaded session: change, regenerate, nothing else.
    s.set("role", "admin").await.unwrap();
    s.regenerate_id().await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    assert!(parts.no_store);
    let second = parts.cookie.expect("exactly one new cookie");
    assert_ne!(second.value, first.value);
    let ids = RequestIds {
        cookie: Some(&second.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(
        s.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    assert_eq!(
        s.get::<String>("role").await.unwrap().as_deref(),
        Some("admin")
    );
    // A second release in the same request sends nothing more.
    assert!(m.session_release(&s).await.unwrap().cookie.is_none());
}

#[actix_rt::test]
async fn destroy_removes_the_cookie_but_a_copy_stays_valid() {
    let m = cookie_manager().await;
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("user", "astaxie").await.unwrap();
    let c = m.session_release(&s).await.unwrap().cookie.unwrap();
    let ids = RequestIds {
        cookie: Some(&c.value),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    s.destroy().await.unwrap();
    let removal = m.session_release(&s).await.unwrap().cookie.unwrap();
    assert!(removal.is_removal());
    assert_eq!(removal.value, "");
    // Documented: no server-side revocation, so a copied cookie still opens
    // until it expires.
    let copy = m.session_start(&ids).await.unwrap();
    assert_eq!(
        copy.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    assert_eq!(m.get_active_session().await.unwrap(), 0);
}

/// One way of damaging a cookie.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit of the decoded bytes, then re-encode.
    FlipByte(usize, u8),
    /// Flip one bit of one character of the cookie text.
    FlipChar(usize, u8),
    /// Keep a strict prefix.
    Truncate(usize),
    /// Replace a range with base64 junk.
    Splice(usize, usize, String),
    /// Junk alone.
    Junk(String),
    /// Swap two 16-byte blocks of the decoded bytes.
    Reorder(usize, usize),
    /// The same value sent under another cookie name.
    MovedName,
}

fn mutate(token: &str, m: &Mutation) -> Option<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let out = match m {
        Mutation::FlipByte(i, bit) => {
            let mut data = b64.decode(token).ok()?;
            let i = i % data.len();
            data[i] ^= 1 << (bit % 8);
            b64.encode(data)
        }
        Mutation::FlipChar(i, bit) => {
            let mut bytes = token.as_bytes().to_vec();
            let i = i % bytes.len();
            bytes[i] ^= 1 << (bit % 8);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::Truncate(n) => token[..n % token.len()].to_string(),
        Mutation::Splice(a, len, junk) => {
            let a = a % token.len();
            let b = (a + len).min(token.len());
            format!("{}{}{}", &token[..a], junk, &token[b..])
        }
        Mutation::Junk(junk) => junk.clone(),
        Mutation::MovedName => return None,
        Mutation::Reorder(a, b) => {
            let mut data = b64.decode(token).ok()?;
            let blocks = data.len() / 16;
            let (a, b) = (a % blocks, b % blocks);
            if a == b {
                return None;
            }
            for k in 0..16 {
                data.swap(a * 16 + k, b * 16 + k);
            }
            b64.encode(data)
        }
    };
    (out != token).then_some(out)
}

fn junk() -> impl Strategy<Value = String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-=+/.";
    proptest::collection::vec(proptest::sample::select(ALPHABET), 0..300)
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::MovedName),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipChar(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0usize..40, junk()).prop_map(|(a, l, j)| Mutation::Splice(a, l, j)),
        junk().prop_map(Mutation::Junk),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Reorder(a, b)),
    ]
}

#[test]
fn decoder_rejects_100_000_mutated_cookies() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (p, other_name) = rt.block_on(async {
        let p = provider(&[K1], testing::LONG).await;
        let mut q = CookieProvider::default();
        let cfg = serde_json::json!({ "securityKey": K1, "cookieName": "other" }).to_string();
        q.session_init(testing::LONG, &cfg).await.unwrap();
        (p, Arc::new(q) as Arc<dyn Provider>)
    });
    let tokens: Vec<String> = rt.block_on(async {
        let mut t = Vec::new();
        for v in 0..8 {
            t.push(seal(&p, v).await);
        }
        t
    });
    let started = Instant::now();
    let mut runner = TestRunner::new(PropConfig {
        // Some mutations are no-ops (a reorder of a block with itself:
        // one in three on the short tokens of payload version 2).
        cases: 110_000,
        failure_persistence: None,
        ..PropConfig::default()
    });
    let tried = std::cell::Cell::new(0u64);
    let result = runner.run(&(0..tokens.len(), mutation()), |(t, m)| {
        let token = &tokens[t];
        if let Mutation::MovedName = m {
            tried.set(tried.get() + 1);
            let moved = rt.block_on(open(&other_name, token));
            prop_assert!(moved.meta().is_new, "accepted under another cookie name");
        } else if let Some(bad) = mutate(token, &m) {
            tried.set(tried.get() + 1);
            let store = rt.block_on(open(&p, &bad));
            prop_assert!(store.meta().is_new, "accepted a mutated cookie: {m:?}");
        }
        Ok(())
    });
    result.unwrap();
    let tried = tried.get();
    eprintln!(
        "{tried} mutated cookies rejected in {:?}",
        started.elapsed()
    );
    assert!(tried >= 100_000, "too few mutations applied: {tried}");
    // The originals still open: the rejections are not a broken decoder.
    for token in &tokens {
        assert!(!rt.block_on(open(&p, token)).meta().is_new);
    }
}

/// Destroy cannot revoke a copied cookie: its sealed absolute lifetime is
/// what ends it, so an absolute lifetime of 0 (none) is a start-up error.
#[actix_rt::test]
async fn an_absolute_lifetime_of_zero_is_refused() {
    let mut cfg = ManagerConfig::default();
    cfg.provider_config = config(&[K1]);
    cfg.absolute_lifetime = 0;
    let err = Manager::new("cookie", cfg.clone()).await.unwrap_err();
    assert!(err.is_config(), "{err}");
    assert!(err.to_string().contains("sessionabsolutelifetime"), "{err}");
    cfg.absolute_lifetime = 3600;
    Manager::new("cookie", cfg).await.unwrap();
}
