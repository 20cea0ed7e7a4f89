//! `actix-bee check`: start the engine as the app would, then create,
//! write, read, regenerate and destroy a throw-away session, timing each step.

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

use super::{CliError, KeyOrigins, Loaded};
use crate::session::engine::IdFormat;
use crate::session::{Manager, RequestIds, ResponseParts, Session};

/// The key the throw-away session holds; its value is a fresh nonce.
const PROBE_KEY: &str = "actix-bee-check";

/// One step's runner: a time limit, and where to print.
struct Steps<'a> {
    loaded: &'a Loaded,
    limit: Duration,
    out: &'a mut dyn Write,
}

impl Steps<'_> {
    /// Runs one step within the limit and prints `name ok <ms> <detail>`.
    async fn step<T, F>(&mut self, name: &'static str, fut: F) -> Result<T, CliError>
    where
        F: Future<Output = Result<(T, String), CliError>>,
    {
        let started = Instant::now();
        let result = match tokio::time::timeout(self.limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(CliError::Timeout {
                step: name,
                after: self.limit,
                hint: format!(
                    "check that the server named in sessionproviderconfig ({}) answers",
                    self.loaded.describe("sessionproviderconfig")
                ),
            }),
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok((value, detail)) => {
                writeln!(self.out, "  {name:<10} ok   {ms:>8.1} ms  {detail}")?;
                Ok(value)
            }
            Err(e) => {
                writeln!(self.out, "  {name:<10} FAIL {ms:>8.1} ms")?;
                Err(e)
            }
        }
    }
}

pub(super) async fn run(
    loaded: &Loaded,
    limit: Duration,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let cfg = &loaded.explained.config;
    writeln!(
        out,
        "checking {}: sessionprovider {} ({}), run mode {}",
        loaded.file.display(),
        loaded.provider(),
        loaded.describe("sessionprovider"),
        cfg.run_mode
    )?;
    if !loaded.session_on() {
        writeln!(
            out,
            "  note: sessionon is false ({}), so the app starts no session engine; \
             checking the configured one anyway",
            loaded.describe("sessionon")
        )?;
    }
    let mut steps = Steps { loaded, limit, out };
    let manager = steps
        .step("start", async {
            let m = loaded.manager().await?;
            let format = m.config().store_format.name();
            Ok((m, format!("engine started; store format {format} accepted")))
        })
        .await?;
    let sealed = matches!(manager.provider().id_format(), IdFormat::Sealed { .. });
    let nonce = manager
        .new_session_id()
        .map_err(|e| CliError::session("create", e, loaded))?
        .fingerprint();
    let session = steps
        .step("create", async {
            let s = start(&manager, None, loaded).await?;
            s.start().await.map_err(|e| fail("create", e, loaded))?;
            Ok((s, "new session".to_owned()))
        })
        .await?;
    let id = steps
        .step("write", async {
            session
                .set(PROBE_KEY, &nonce)
                .await
                .map_err(|e| fail("write", e, loaded))?;
            let parts = release(&manager, &session, "write", loaded).await?;
            let id = issued_id(&session, parts, "write", loaded).await?;
            Ok((id.clone(), format!("session {}", fingerprint(&id))))
        })
        .await?;
    let outcome = round_trip(&mut steps, &manager, &id, &nonce, sealed).await;
    if outcome.is_err() {
        // Best effort: leave nothing behind in the store.
        if let Some(sid) = manager.parse_id(&id) {
            let _ = manager.provider().session_destroy(&sid).await;
        }
    }
    outcome?;
    writeln!(
        steps.out,
        "ok: the {} engine works with this configuration",
        loaded.provider()
    )?;
    Ok(())
}

/// read, regenerate and destroy, each checked against the store.
async fn round_trip(
    steps: &mut Steps<'_>,
    manager: &Manager,
    id: &str,
    nonce: &str,
    sealed: bool,
) -> Result<(), CliError> {
    let loaded = steps.loaded;
    steps
        .step("read", async {
            let what = "the session written a moment ago reads back without its value";
            read_back(manager, id, nonce, ("read", what), loaded).await?;
            Ok(((), "value read back".to_owned()))
        })
        .await?;
    let new_id = steps
        .step("regenerate", async {
            let s = start(manager, Some(id), loaded).await?;
            s.regenerate_id()
                .await
                .map_err(|e| fail("regenerate", e, loaded))?;
            let parts = release(manager, &s, "regenerate", loaded).await?;
            let new_id = issued_id(&s, parts, "regenerate", loaded).await?;
            if !sealed && exists(manager, id, "regenerate", loaded).await? {
                return Err(CliError::Check {
                    step: "regenerate",
                    what: "the old id still resolves after regenerate".into(),
                });
            }
            let what = "the new id does not carry the session's data";
            read_back(manager, &new_id, nonce, ("regenerate", what), loaded).await?;
            let detail = format!("now {}; the old id is gone", fingerprint(&new_id));
            Ok((new_id, detail))
        })
        .await?;
    steps
        .step("destroy", async {
            let s = start(manager, Some(&new_id), loaded).await?;
            s.destroy().await.map_err(|e| fail("destroy", e, loaded))?;
            release(manager, &s, "destroy", loaded).await?;
            if !sealed && exists(manager, &new_id, "destroy", loaded).await? {
                return Err(CliError::Check {
                    step: "destroy",
                    what: "the session still exists after destroy".into(),
                });
            }
            let detail = if sealed {
                "client-side engine: the cookie is removed, nothing is stored"
            } else {
                "the session is gone from the store"
            };
            Ok(((), detail.to_owned()))
        })
        .await
}

/// Fails `step` with `what` unless the session `id` holds the probe `nonce`.
async fn read_back(
    manager: &Manager,
    id: &str,
    nonce: &str,
    (step, what): (&'static str, &str),
    l: &Loaded,
) -> Result<(), CliError> {
    let s = start(manager, Some(id), l).await?;
    let got: Option<String> = s.get(PROBE_KEY).await.map_err(|e| fail(step, e, l))?;
    if got.as_deref() == Some(nonce) {
        return Ok(());
    }
    Err(CliError::Check {
        step,
        what: what.to_owned(),
    })
}

fn fail(step: &'static str, e: crate::session::Error, loaded: &Loaded) -> CliError {
    CliError::session(step, e, loaded)
}

async fn start(manager: &Manager, id: Option<&str>, l: &Loaded) -> Result<Session, CliError> {
    let ids = RequestIds {
        cookie: id,
        ..RequestIds::default()
    };
    manager
        .session_start(&ids)
        .await
        .map_err(|e| fail("start", e, l))
}

async fn release(
    manager: &Manager,
    session: &Session,
    step: &'static str,
    l: &Loaded,
) -> Result<ResponseParts, CliError> {
    manager
        .session_release(session)
        .await
        .map_err(|e| fail(step, e, l))
}

/// The id the client would carry next: the cookie's (or header's) value,
/// else the session's id (with `sessionautosetcookie = false`).
async fn issued_id(
    session: &Session,
    parts: ResponseParts,
    step: &'static str,
    l: &Loaded,
) -> Result<String, CliError> {
    if let Some(cookie) = parts.cookie.filter(|c| !c.is_removal()) {
        return Ok(cookie.value);
    }
    if let Some((_, value)) = parts.header {
        return Ok(value);
    }
    let id = session.session_id().await.map_err(|e| fail(step, e, l))?;
    Ok(id.as_str().to_owned())
}

async fn exists(
    manager: &Manager,
    id: &str,
    step: &'static str,
    l: &Loaded,
) -> Result<bool, CliError> {
    let Some(sid) = manager.parse_id(id) else {
        return Ok(false);
    };
    manager
        .provider()
        .session_exist(&sid)
        .await
        .map_err(|e| fail(step, e, l))
}

/// Ids are secrets: only their fingerprint is printed.
fn fingerprint(id: &str) -> String {
    crate::session::fingerprint_of(id)
}
