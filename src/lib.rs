//! # actix-bee
//!
//! beego's session module, and the beego way of using it, for actix-web.
//!
//! - [`config`]: `conf/app.conf` in beego's INI dialect, loaded into [`config::BConfig`].
//! - [`session`]: the core, usable without the web layer ([`session::Manager`],
//!   the [`session::Provider`] and [`session::Store`] traits, the engines).
//! - [`web`]: the beego way on actix-web: [`web::App`], [`web::Controller`],
//!   templates, and [`web::SessionMiddleware`] for any actix-web app.
//! - `cli` (feature `cli`): the `actix-bee` command's logic (`config`,
//!   `check`, `sessions`).
//!
//! ```
//! # actix_rt::System::new().block_on(async {
//! use actix_bee::session::{Manager, ManagerConfig, RequestIds};
//!
//! let manager = Manager::new("memory", ManagerConfig::default()).await.unwrap();
//! let session = manager.session_start(&RequestIds::default()).await.unwrap();
//! session.set("asta", &1i64).await.unwrap();
//! let response = manager.session_release(&session).await.unwrap();
//! assert!(response.cookie.unwrap().http_only);
//! # });
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
pub mod config;
pub mod gob;
pub mod session;
pub mod web;

/// The README's Rust snippets, compiled with the doctests so that the code a
/// reader pastes never drifts from the crate.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
