//! Lifecycle cases: regenerate, destroy, and counting sessions.
// Assertions are this module's purpose; it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;

use crate::session::{Provider, SessionId};

use super::{create, init, new_id, Made, LONG};

/// Regenerate keeps the data under the new id and kills the old one.
pub async fn regenerate_moves_data<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let old = create(&provider, &[("k", 42)]).await;
    let new = new_id();
    let moved = provider.session_regenerate(&old, &new).await.unwrap();
    assert_eq!(moved.session_id(), new);
    assert!(!moved.meta().is_new);
    assert_eq!(moved.get::<i64>("k").await.unwrap(), Some(42));
    assert!(provider.session_exist(&new).await.unwrap());
    assert!(!provider.session_exist(&old).await.unwrap());
    assert!(provider.session_read(&old).await.unwrap().meta().is_new);
    let again = provider.session_read(&new).await.unwrap();
    assert_eq!(again.get::<i64>("k").await.unwrap(), Some(42));
    // Changes made through the moved store land under the new id.
    moved.set("after", &1).await.unwrap();
    moved.session_release().await.unwrap();
    let again = provider.session_read(&new).await.unwrap();
    assert_eq!(again.get::<i64>("after").await.unwrap(), Some(1));
    // Regenerating an unknown id gives an empty new session.
    let ghost = provider
        .session_regenerate(&new_id(), &new_id())
        .await
        .unwrap();
    assert_eq!(ghost.get::<i64>("k").await.unwrap(), None);
    assert_eq!(provider.session_all().await.unwrap(), 1);
}

/// Destroy removes the session.
pub async fn destroy_removes<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    let sid = create(&provider, &[("k", 1)]).await;
    assert!(provider.session_exist(&sid).await.unwrap());
    provider.session_destroy(&sid).await.unwrap();
    assert!(!provider.session_exist(&sid).await.unwrap());
    assert!(provider.session_read(&sid).await.unwrap().meta().is_new);
    // Destroying twice, or an unknown id, is fine.
    provider.session_destroy(&sid).await.unwrap();
    provider.session_destroy(&new_id()).await.unwrap();
    assert_eq!(provider.session_all().await.unwrap(), 0);
}

/// A request that loaded the session before a destroy cannot bring it back.
pub async fn no_resurrection_after_destroy<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    for if_present in [false, true] {
        let sid = create(&provider, &[("k", 1)]).await;
        let slow = provider.session_read(&sid).await.unwrap();
        provider.session_destroy(&sid).await.unwrap();
        slow.set("late", &2).await.unwrap();
        let released = if if_present {
            slow.session_release_if_present().await.unwrap()
        } else {
            slow.session_release().await.unwrap()
        };
        assert!(!released.written, "release after destroy wrote");
        assert!(!provider.session_exist(&sid).await.unwrap());
    }
    // release_if_present never creates a new session either.
    let fresh = provider.session_read(&new_id()).await.unwrap();
    fresh.set("k", &1).await.unwrap();
    assert!(!fresh.session_release_if_present().await.unwrap().written);
    assert!(!provider.session_exist(&fresh.session_id()).await.unwrap());
    assert_eq!(provider.session_all().await.unwrap(), 0);
}

/// Creation is an insert-if-absent: of two stores that both saw an id as
/// new (read before either was saved, or made by `session_new`), the second
/// to be released gets [`Error::IdCollision`](crate::session::Error::IdCollision)
/// and the first one's data stays whole; released at once, exactly one
/// wins.
pub async fn create_on_a_taken_id_is_a_collision<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    for minted in [false, true] {
        let sid = new_id();
        let first = open(&provider, &sid, minted).await;
        let second = open(&provider, &sid, minted).await;
        first.set("who", "first").await.unwrap();
        first.set("only_first", &1).await.unwrap();
        assert!(first.session_release().await.unwrap().written);
        second.set("who", "second").await.unwrap();
        second.set("only_second", &2).await.unwrap();
        let err = second.session_release().await.unwrap_err();
        assert!(err.is_id_collision(), "second create gave {err:?}");
        let back = provider.session_read(&sid).await.unwrap();
        assert_eq!(
            back.get::<String>("who").await.unwrap().as_deref(),
            Some("first")
        );
        assert_eq!(back.get::<i64>("only_first").await.unwrap(), Some(1));
        assert_eq!(
            back.get::<i64>("only_second").await.unwrap(),
            None,
            "merged into the taken id"
        );
    }
    assert_eq!(provider.session_all().await.unwrap(), 2);
    // At once: both releases in flight together, 20 rounds. Exactly one
    // wins, and the stored session is the winner's alone: an
    // exists-then-insert that is not atomic lets both through, or merges.
    const ROUNDS: usize = 20;
    for round in 0..ROUNDS {
        let sid = new_id();
        let minted = round % 2 == 0;
        let a = open(&provider, &sid, minted).await;
        let b = open(&provider, &sid, minted).await;
        a.set("who", "a").await.unwrap();
        a.set("only_a", &1).await.unwrap();
        b.set("who", "b").await.unwrap();
        b.set("only_b", &2).await.unwrap();
        let (ra, rb) = futures_util::future::join(a.session_release(), b.session_release()).await;
        let winner = match (ra, rb) {
            (Ok(r), Err(e)) if r.written && e.is_id_collision() => "a",
            (Err(e), Ok(r)) if r.written && e.is_id_collision() => "b",
            other => panic!("two creates of one id at once gave {other:?}"),
        };
        let back = provider.session_read(&sid).await.unwrap();
        assert_eq!(
            back.get::<String>("who").await.unwrap().as_deref(),
            Some(winner)
        );
        let loser = if winner == "a" { "only_b" } else { "only_a" };
        assert_eq!(
            back.get::<i64>(loser).await.unwrap(),
            None,
            "the loser's key merged into the winner's session"
        );
    }
    assert_eq!(provider.session_all().await.unwrap(), 2 + ROUNDS);
}

/// A store for `sid` as the manager makes one for a minted id, or as a
/// read of an absent id gives it.
async fn open(
    provider: &Arc<dyn Provider>,
    sid: &SessionId,
    minted: bool,
) -> Arc<dyn crate::session::Store> {
    if minted {
        provider.session_new(sid).await.unwrap()
    } else {
        provider.session_read(sid).await.unwrap()
    }
}

/// `session_all` is exact after 1,000 sessions.
pub async fn session_all_counts_1000<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Made>,
{
    let provider = init(&make, LONG).await;
    for chunk in 0..20 {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let provider = provider.clone();
                tokio::spawn(async move {
                    create(&provider, &[("i", chunk * 50 + i)]).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    assert_eq!(provider.session_all().await.unwrap(), 1000);
}
