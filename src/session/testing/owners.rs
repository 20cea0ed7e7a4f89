//! Cases for engines with an owner index ("log out everywhere"): listing
//! and ending an owner's sessions, the index following regenerate, destroy
//! and expiry, and logins racing a "log out everywhere".
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::future::join_all;

use super::racy::Racy;
use super::Made;
use crate::session::{
    Error, Manager, ManagerConfig, Owner, RequestIds, SessionId, OWNER_EPOCH_KEY,
};

async fn manager<F, Fut>(make: &F, max_lifetime: i64) -> Manager
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let (provider, config) = make().await;
    let cfg = ManagerConfig {
        max_lifetime,
        provider_config: config,
        ..ManagerConfig::default()
    };
    Manager::with_provider(provider, cfg).await.unwrap()
}

/// A request that logs `owner` in on a fresh session; its id.
pub async fn login(m: &Manager, owner: &str) -> SessionId {
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("k", &1).await.unwrap();
    s.set_owner(owner).await.unwrap();
    let sid = s.session_id().await.unwrap();
    m.session_release(&s).await.unwrap();
    sid
}

/// The session of a request carrying `sid`.
async fn resume(m: &Manager, sid: &SessionId) -> crate::session::Session {
    m.session_start(&RequestIds {
        cookie: Some(sid.as_str()),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn alive(m: &Manager, sid: &SessionId) -> bool {
    m.provider().session_exist(sid).await.unwrap()
}

fn prints(sids: &[&SessionId]) -> Vec<String> {
    let mut v: Vec<String> = sids.iter().map(|s| s.fingerprint()).collect();
    v.sort();
    v
}

async fn listed(m: &Manager, owner: &str) -> Vec<String> {
    let mut v: Vec<String> = m
        .sessions_of(owner)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.fingerprint)
        .collect();
    v.sort();
    v
}

/// Three sessions of one owner and one of another: listed by owner (by
/// fingerprint, with times) and ended by owner, the other owner untouched.
pub async fn owners_list_and_destroy<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, 3600).await;
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(login(&m, "alice").await);
    }
    let bob = login(&m, "bob@example.com").await;
    let refs: Vec<&SessionId> = alice.iter().collect();
    assert_eq!(listed(&m, "alice").await, prints(&refs));
    assert_eq!(listed(&m, "bob@example.com").await, prints(&[&bob]));
    for s in m.sessions_of("alice").await.unwrap() {
        if let (Some(c), Some(a)) = (s.created_ms, s.accessed_ms) {
            // Redis derives the last access from the TTL left: allow a second.
            assert!(
                c > 0 && a + 1000 >= c,
                "times are ms since the epoch, access after creation"
            );
        }
    }
    assert_eq!(m.destroy_sessions_of("alice", None).await.unwrap(), 3);
    for sid in &alice {
        assert!(!alive(&m, sid).await, "every session of alice ended");
    }
    assert!(listed(&m, "alice").await.is_empty());
    assert!(alive(&m, &bob).await, "bob's session is untouched");
    assert_eq!(listed(&m, "bob@example.com").await, prints(&[&bob]));
    assert!(matches!(
        m.sessions_of("").await.unwrap_err(),
        Error::InvalidOwner { .. }
    ));
}

/// "Everywhere but here": the current session survives.
pub async fn owners_except_current<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, 3600).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(login(&m, "carol").await);
    }
    let s = resume(&m, &ids[1]).await;
    assert_eq!(s.owner().await.unwrap().as_deref(), Some("carol"));
    let here = s.session_id().await.unwrap();
    assert_eq!(
        m.destroy_sessions_of("carol", Some(&here)).await.unwrap(),
        2
    );
    assert!(alive(&m, &ids[1]).await);
    assert!(!alive(&m, &ids[0]).await && !alive(&m, &ids[2]).await);
    assert_eq!(listed(&m, "carol").await, prints(&[&ids[1]]));
    // The surviving request goes on writing.
    s.set("k", &2).await.unwrap();
    m.session_release(&s).await.unwrap();
    assert_eq!(
        resume(&m, &ids[1]).await.get::<i32>("k").await.unwrap(),
        Some(2)
    );
    // "Log out other devices, then regenerate": the kept session holds the
    // owner's new epoch, so its next regenerate keeps it logged in.
    let s = resume(&m, &ids[1]).await;
    s.regenerate_id().await.unwrap();
    let moved = s.session_id().await.unwrap();
    m.session_release(&s).await.unwrap();
    assert!(
        alive(&m, &moved).await,
        "the kept session was logged out by its next regenerate"
    );
    assert!(!alive(&m, &ids[1]).await);
    assert_eq!(listed(&m, "carol").await, prints(&[&moved]));
    // The same in one request, through the session: other devices out,
    // then a regenerate.
    let other = login(&m, "carol").await;
    let s = resume(&m, &moved).await;
    assert_eq!(s.destroy_owner_sessions(true).await.unwrap(), 1);
    s.regenerate_id().await.unwrap();
    let again = s.session_id().await.unwrap();
    m.session_release(&s).await.unwrap();
    assert!(!alive(&m, &other).await);
    assert!(
        alive(&m, &again).await,
        "logged out by a regenerate in the request that kept it"
    );
    assert_eq!(listed(&m, "carol").await, prints(&[&again]));
}

/// The index follows the session: regenerate moves the entry, destroy,
/// `clear_owner` and flush remove it, a new owner replaces the old one,
/// and the reserved keys cannot be written directly.
pub async fn owners_follow_regenerate_and_destroy<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, 3600).await;
    let old = login(&m, "dave").await;
    let s = resume(&m, &old).await;
    m.session_regenerate_id(&s).await.unwrap();
    let new = s.session_id().await.unwrap();
    m.session_release(&s).await.unwrap();
    assert_ne!(old, new);
    assert_eq!(listed(&m, "dave").await, prints(&[&new]));
    assert_eq!(
        resume(&m, &new).await.owner().await.unwrap().as_deref(),
        Some("dave")
    );
    // Ending dave's sessions reaches the regenerated one.
    assert_eq!(m.destroy_sessions_of("dave", None).await.unwrap(), 1);
    assert!(!alive(&m, &new).await);

    let a = login(&m, "erin").await;
    let s = resume(&m, &a).await;
    m.session_destroy(&s).await.unwrap();
    m.session_release(&s).await.unwrap();
    assert!(listed(&m, "erin").await.is_empty(), "destroy detaches");

    let b = login(&m, "erin").await;
    let s = resume(&m, &b).await;
    s.clear_owner().await.unwrap();
    m.session_release(&s).await.unwrap();
    assert!(listed(&m, "erin").await.is_empty(), "clear_owner detaches");
    assert!(alive(&m, &b).await);

    let c = login(&m, "erin").await;
    let s = resume(&m, &c).await;
    s.flush().await.unwrap();
    s.set("k", &3).await.unwrap();
    m.session_release(&s).await.unwrap();
    assert!(listed(&m, "erin").await.is_empty(), "flush detaches");

    let d = login(&m, "erin").await;
    let s = resume(&m, &d).await;
    s.set_owner("frank").await.unwrap();
    m.session_release(&s).await.unwrap();
    assert!(
        listed(&m, "erin").await.is_empty(),
        "a new owner replaces the old"
    );
    assert_eq!(listed(&m, "frank").await, prints(&[&d]));
    // Setting the same owner again changes nothing.
    let s = resume(&m, &d).await;
    s.set_owner("frank").await.unwrap();
    m.session_release(&s).await.unwrap();
    assert_eq!(listed(&m, "frank").await, prints(&[&d]));

    let s = resume(&m, &d).await;
    for key in [crate::session::OWNER_KEY, OWNER_EPOCH_KEY] {
        assert!(matches!(
            s.set(key, "x").await.unwrap_err(),
            Error::ReservedKey { .. }
        ));
        assert!(matches!(
            s.delete(key).await.unwrap_err(),
            Error::ReservedKey { .. }
        ));
    }
    let long = "x".repeat(257);
    for bad in ["", "a\u{0}b", "tab\there", long.as_str()] {
        assert!(matches!(
            s.set_owner(bad).await.unwrap_err(),
            Error::InvalidOwner { .. }
        ));
    }
}

/// An expired session is no longer listed, and GC runs over the index.
pub async fn owners_expired_not_listed<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, 1).await;
    let sid = login(&m, "gina").await;
    assert_eq!(listed(&m, "gina").await, prints(&[&sid]));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        listed(&m, "gina").await.is_empty(),
        "an expired session is not listed"
    );
    m.provider().session_gc().await.unwrap();
    assert!(listed(&m, "gina").await.is_empty());
    assert_eq!(m.destroy_sessions_of("gina", None).await.unwrap(), 0);
}

enum Step {
    Login(SessionId),
    Ended(usize),
}

/// Checks that every live session of `owner` among `ids` was attached
/// under the owner's current epoch (after the last bump) and is listed.
pub async fn check_no_survivor_of_a_bump(m: &Manager, owner: &str, ids: &[SessionId]) {
    let index = m.provider().owner_index().unwrap();
    let epoch = index.epoch(&Owner::new(owner).unwrap()).await.unwrap();
    let listed = listed(m, owner).await;
    for sid in ids {
        if !alive(m, sid).await {
            continue;
        }
        let store = m.provider().session_read(sid).await.unwrap();
        let stored = store.get::<u64>(OWNER_EPOCH_KEY).await.unwrap();
        assert_eq!(
            stored,
            Some(epoch),
            "a session attached before the last bump is alive"
        );
        assert!(
            listed.contains(&sid.fingerprint()),
            "a live session is not in the index"
        );
    }
}

/// Many logins of one owner racing "log out everywhere", 200 rounds:
/// after each, no session attached before the bump is alive. The engine is
/// wrapped so that the tasks interleave inside the owner protocol even
/// where its calls never wait (memory), and the race must have done what
/// it is for: some logins must have been ended by their own check after
/// the write (the bump landed between their attach and that check). The
/// narrowest window is also pinned by
/// [`owners_logout_between_attach_and_write`].
pub async fn owners_race_logins_with_destroy<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let (provider, config) = make().await;
    let cfg = ManagerConfig {
        max_lifetime: 3600,
        provider_config: config,
        ..ManagerConfig::default()
    };
    let (m, racy) = Racy::manager(provider, cfg).await;
    racy.interleave();
    let m = &m;
    let mut ids: Vec<SessionId> = Vec::new();
    // Logins that their own post-write check ended.
    let mut self_ended = 0;
    for round in 0..200 {
        // Staggered starts (0 to 1.9 ms, varying by round) so the steps
        // meet at every point of each other's round trips.
        let delay = |i: usize| Duration::from_micros(((round * 7 + i * 13) % 20) as u64 * 100);
        let mut steps: Vec<Pin<Box<dyn Future<Output = Step> + '_>>> = (0..4)
            .map(|i| {
                Box::pin(async move {
                    tokio::time::sleep(delay(i)).await;
                    Step::Login(login(m, "racer").await)
                }) as Pin<Box<dyn Future<Output = Step>>>
            })
            .collect();
        let destroy = Box::pin(async move {
            tokio::time::sleep(delay(4)).await;
            Step::Ended(m.destroy_sessions_of("racer", None).await.unwrap())
        });
        steps.insert(round % 5, destroy);
        let mut ended = 0;
        for step in join_all(steps).await {
            match step {
                Step::Login(sid) => ids.push(sid),
                Step::Ended(n) => ended += n,
            }
        }
        check_no_survivor_of_a_bump(m, "racer", &ids).await;
        // Only the ones still alive matter for the next rounds.
        let started = ids.len();
        let mut keep = Vec::new();
        for sid in ids.drain(..) {
            if alive(m, &sid).await {
                keep.push(sid);
            }
        }
        ids = keep;
        // A session both ended by the call and by its own check counts
        // once, as ended by the call: this is a lower bound.
        self_ended += (started - ids.len()).saturating_sub(ended);
    }
    m.destroy_sessions_of("racer", None).await.unwrap();
    check_no_survivor_of_a_bump(m, "racer", &ids).await;
    for sid in &ids {
        assert!(!alive(m, sid).await);
    }
    assert!(
        self_ended > 0,
        "no login raced a log out everywhere: the race proved nothing"
    );
}

/// Two managers on one store (two processes, two pools) racing: logins
/// on both while each in turn ends `owner`'s sessions, `rounds` rounds.
/// After each round, through either manager, no session attached before
/// the last bump is alive; at the end none is. Returns how many sessions
/// the "log out everywhere" calls ended, so the caller can check the race
/// did something.
pub async fn owners_race_two_managers(
    a: &Manager,
    b: &Manager,
    owner: &str,
    rounds: usize,
) -> usize {
    let mut ids: Vec<SessionId> = Vec::new();
    let mut ended = 0;
    for round in 0..rounds {
        let delay = |i: usize| Duration::from_micros(((round * 7 + i * 13) % 20) as u64 * 100);
        // A login gives its id, the "log out everywhere" how many it ended.
        type Out = (Option<SessionId>, usize);
        let mut steps: Vec<Pin<Box<dyn Future<Output = Out> + '_>>> = (0..4)
            .map(|i| {
                let m = if i % 2 == 0 { a } else { b };
                Box::pin(async move {
                    tokio::time::sleep(delay(i)).await;
                    (Some(login(m, owner).await), 0usize)
                }) as Pin<Box<dyn Future<Output = Out>>>
            })
            .collect();
        let ender = if round % 2 == 0 { a } else { b };
        steps.insert(
            round % 5,
            Box::pin(async move {
                tokio::time::sleep(delay(4)).await;
                (None, ender.destroy_sessions_of(owner, None).await.unwrap())
            }),
        );
        for (sid, n) in join_all(steps).await {
            ids.extend(sid);
            ended += n;
        }
        check_no_survivor_of_a_bump(a, owner, &ids).await;
        check_no_survivor_of_a_bump(b, owner, &ids).await;
        let mut keep = Vec::new();
        for sid in ids.drain(..) {
            if alive(a, &sid).await {
                keep.push(sid);
            }
        }
        ids = keep;
    }
    ended += b.destroy_sessions_of(owner, None).await.unwrap();
    for sid in &ids {
        assert!(!alive(a, sid).await && !alive(b, sid).await);
    }
    assert!(listed(a, owner).await.is_empty());
    ended
}

/// A "log out everywhere" between a login's attach and its write: the
/// index read misses the session (not written yet), so the login's own
/// second epoch read must end it; a client without a cookie gets none.
pub async fn owners_logout_between_attach_and_write<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let (provider, config) = make().await;
    let cfg = ManagerConfig {
        provider_config: config,
        ..ManagerConfig::default()
    };
    let (m, racy) = Racy::manager(provider, cfg).await;
    let before = login(&m, "ivy").await;
    racy.arm();
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set_owner("ivy").await.unwrap();
    let raced = s.session_id().await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    assert!(racy.fired(), "the hook ran");
    assert!(!alive(&m, &before).await);
    assert!(
        !alive(&m, &raced).await,
        "a login that attached before the bump survived it"
    );
    assert!(parts.cookie.is_none());
    assert!(listed(&m, "ivy").await.is_empty());
    // A login after the "log out everywhere" lives.
    let after = login(&m, "ivy").await;
    assert!(alive(&m, &after).await);
}

/// A regenerate that moves a session between a "log out everywhere"'s
/// index read and its destroys: the moved session must not survive (the
/// epoch it stored at login is older than the owner's), and the client's
/// cookie goes.
pub async fn owners_regenerate_during_logout<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, 3600).await;
    let old = login(&m, "jay").await;
    let owner = Owner::new("jay").unwrap();
    let index = m.provider().owner_index().unwrap();
    // The "log out everywhere", by hand: bump and read the index...
    index.bump(&owner).await.unwrap();
    let listed = index.sessions(&owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    // ...a request of that session regenerates its id meanwhile...
    let s = resume(&m, &old).await;
    m.session_regenerate_id(&s).await.unwrap();
    let new = s.session_id().await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    // ...and the destroys reach only the old id.
    for listed in listed {
        m.provider().session_destroy(&listed.sid).await.unwrap();
    }
    assert!(!alive(&m, &new).await, "the regenerated session escaped");
    assert!(parts.cookie.is_some_and(|c| c.is_removal()));
}

/// An engine without an owner index keeps a session's owner like any
/// value, and says with a typed error that it cannot list or end an
/// owner's sessions.
pub async fn owners_unsupported<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let m = manager(&make, 3600).await;
    let s = m.session_start(&RequestIds::default()).await.unwrap();
    s.set("k", &1).await.unwrap();
    // The owner is a value in the session: it works here too, and
    // survives a regenerate and the release.
    s.set_owner("alice").await.unwrap();
    s.regenerate_id().await.unwrap();
    let parts = m.session_release(&s).await.unwrap();
    let ids = RequestIds {
        cookie: parts.cookie.as_ref().map(|c| c.value.as_str()),
        ..Default::default()
    };
    let s = m.session_start(&ids).await.unwrap();
    assert_eq!(s.owner().await.unwrap().as_deref(), Some("alice"));
    assert_eq!(s.get::<i32>("k").await.unwrap(), Some(1));
    // Only what needs the index says so, with a typed error.
    assert!(matches!(
        s.destroy_owner_sessions(true).await.unwrap_err(),
        Error::Unsupported { .. }
    ));
    assert!(matches!(
        m.sessions_of("alice").await.unwrap_err(),
        Error::Unsupported { .. }
    ));
    assert!(matches!(
        m.destroy_sessions_of("alice", None).await.unwrap_err(),
        Error::Unsupported { .. }
    ));
}
