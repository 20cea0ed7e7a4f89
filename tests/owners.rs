//! Sessions by owner ("log out everywhere") on the engines that need no
//! server: the memory engine against the owner cases (plus a race on real
//! threads), and the typed error of an engine without an index.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use actix_bee::session::cookie::CookieProvider;
use actix_bee::session::memory::MemoryProvider;
use actix_bee::session::testing::owners::{check_no_survivor_of_a_bump, login};
use actix_bee::session::{Manager, ManagerConfig, Provider, SessionId};

async fn memory() -> (Box<dyn Provider>, String) {
    (Box::new(MemoryProvider::default()), String::new())
}

actix_bee::conformance_tests!(memory, owner_index);

async fn cookie() -> (Box<dyn Provider>, String) {
    let keys = ["first secret key, at least thirty-two bytes long"];
    let config = serde_json::json!({ "securityKeys": keys }).to_string();
    (Box::new(CookieProvider::default()), config)
}

mod cookie_engine {
    actix_bee::conformance_tests!(super::cookie, no_owner_index);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// The memory engine never yields inside a call, so one thread cannot
/// interleave a login with a "log out everywhere": here four threads log
/// in while a fifth ends the owner's sessions, 200 rounds, and after each
/// round no session attached before the bump is alive.
#[test]
fn memory_logins_race_destroy_on_threads() {
    const LOGINS: usize = 4;
    let manager = runtime().block_on(async {
        Manager::with_provider(
            Box::new(MemoryProvider::default()),
            ManagerConfig::default(),
        )
        .await
        .unwrap()
    });
    let start = Arc::new(Barrier::new(LOGINS + 2));
    let end = Arc::new(Barrier::new(LOGINS + 2));
    let ids: Arc<Mutex<Vec<SessionId>>> = Arc::default();
    let ended = Arc::new(Mutex::new(0usize));
    let rounds = 200;
    let mut threads = Vec::new();
    for _ in 0..LOGINS {
        let (m, start, end, ids) = (manager.clone(), start.clone(), end.clone(), ids.clone());
        threads.push(thread::spawn(move || {
            let rt = runtime();
            for _ in 0..rounds {
                start.wait();
                let sid = rt.block_on(login(&m, "racer"));
                ids.lock().unwrap().push(sid);
                end.wait();
            }
        }));
    }
    {
        let (m, start, end, ended) = (manager.clone(), start.clone(), end.clone(), ended.clone());
        threads.push(thread::spawn(move || {
            let rt = runtime();
            for _ in 0..rounds {
                start.wait();
                let n = rt.block_on(m.destroy_sessions_of("racer", None)).unwrap();
                *ended.lock().unwrap() += n;
                end.wait();
            }
        }));
    }
    let rt = runtime();
    for _ in 0..rounds {
        start.wait();
        end.wait();
        let all = ids.lock().unwrap().clone();
        rt.block_on(check_no_survivor_of_a_bump(&manager, "racer", &all));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(*ended.lock().unwrap() > 0, "the race ended some sessions");
}

/// The owner keys are written only by the owner methods, whatever the
/// write path: `set_gob` in beego's format included, or an app could name
/// another user as the owner and then end that user's sessions.
#[actix_rt::test]
async fn set_gob_cannot_write_the_owner_keys() {
    use actix_bee::gob::Value;
    use actix_bee::session::engine::Format;
    use actix_bee::session::{Error, HashFunc, RequestIds, OWNER_EPOCH_KEY, OWNER_KEY};

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ManagerConfig::default();
    cfg.store_format = Format::Beego;
    cfg.session_id_hash_func = HashFunc::None;
    cfg.provider_config = dir.path().to_str().unwrap().into();
    let m = Manager::new("file", cfg).await.unwrap();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    for key in [OWNER_KEY, OWNER_EPOCH_KEY] {
        let err = s.set_gob(key, Value::string("bob")).await.unwrap_err();
        assert!(
            matches!(err, Error::ReservedKey { .. }),
            "set_gob({key}) gave {err:?}"
        );
    }
    assert_eq!(s.owner().await.unwrap(), None);
    assert!(m.session_release(&s).await.unwrap().cookie.is_none());
}
