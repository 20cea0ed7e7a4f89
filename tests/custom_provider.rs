//! The custom engine of `examples/custom_provider.rs` passes the same
//! conformance suite as the built-in engines.

#[allow(dead_code)]
#[path = "../examples/custom_provider.rs"]
mod own;

use actix_bee::session::Provider;

async fn own_engine() -> (Box<dyn Provider>, String) {
    (Box::new(own::OwnProvider::default()), String::new())
}

actix_bee::conformance_tests!(own_engine);

#[actix_rt::test]
async fn registered_by_name_and_used_through_the_manager() {
    use actix_bee::session::{self, Manager, ManagerConfig, RequestIds};
    session::register("own-test", own::OwnProvider::default);
    let manager = Manager::new("own-test", ManagerConfig::default())
        .await
        .unwrap();
    let s = manager.session_start(&RequestIds::default()).await.unwrap();
    s.set("k", &7u8).await.unwrap();
    manager.session_release(&s).await.unwrap();
    assert_eq!(manager.get_active_session().await.unwrap(), 1);
}
