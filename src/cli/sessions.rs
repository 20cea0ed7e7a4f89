//! `actix-bee sessions count|gc|destroy ID` on the configured engine.
//!
//! Room is kept for `sessions list --owner USER` (issue 12, item 2): a new
//! [`SessionsAction`] variant and one more arm here.

use std::io::Write;

use super::{CliError, Loaded, SessionsAction};

pub(super) async fn run(
    loaded: &Loaded,
    action: SessionsAction,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let manager = loaded.manager().await?;
    let provider = manager.provider();
    let local = match loaded.provider() {
        "memory" => Some("the memory engine lives inside the app's process"),
        "cookie" => Some("the cookie engine stores sessions in the clients' cookies"),
        _ => None,
    };
    if let Some(why) = local {
        writeln!(
            out,
            "note: {why}; this command sees only its own, empty, store"
        )?;
    }
    match action {
        SessionsAction::Count => {
            let n = provider
                .session_all()
                .await
                .map_err(|e| CliError::session("count", e, loaded))?;
            writeln!(out, "{n}")?;
        }
        SessionsAction::Gc => {
            provider
                .session_gc()
                .await
                .map_err(|e| CliError::session("gc", e, loaded))?;
            writeln!(out, "expired sessions removed")?;
        }
        SessionsAction::Destroy { id } => {
            let ids = manager.ids();
            let Some(sid) = ids.parse_for(id.trim(), manager.0.id_format) else {
                let prefix = &loaded.explained.config.web_config.session.session_id_prefix;
                let hex = ids.id_len() - prefix.len();
                let reason = if prefix.is_empty() {
                    format!("expected {hex} lower-case hex characters")
                } else {
                    format!(
                        "expected sessionidprefix {prefix:?} ({}) then {hex} lower-case hex characters",
                        loaded.describe("sessionidprefix")
                    )
                };
                return Err(CliError::BadId { reason });
            };
            let existed = provider
                .session_exist(&sid)
                .await
                .map_err(|e| CliError::session("destroy", e, loaded))?;
            provider
                .session_destroy(&sid)
                .await
                .map_err(|e| CliError::session("destroy", e, loaded))?;
            let what = if existed {
                "destroyed"
            } else {
                "no live session with this id; nothing to destroy"
            };
            writeln!(out, "session {}: {what}", sid.fingerprint())?;
        }
    }
    Ok(())
}
