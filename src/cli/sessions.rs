//! `actix-bee sessions count|gc|destroy ID|destroy --owner USER|list --owner USER`
//! on the configured engine.

use std::io::Write;

use serde_json::json;

use super::{CliError, KeyOrigins, Loaded, SessionsAction};
use crate::session::OwnedSession;

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
        SessionsAction::List { owner, json } => {
            let listed = manager
                .sessions_of(&owner)
                .await
                .map_err(|e| CliError::session("list", e, loaded))?;
            print_list(&owner, &listed, json, out)?;
        }
        SessionsAction::Destroy {
            owner: Some(owner), ..
        } => {
            let ended = manager
                .destroy_sessions_of(&owner, None)
                .await
                .map_err(|e| CliError::session("destroy", e, loaded))?;
            writeln!(
                out,
                "owner {owner:?}: {}",
                plural(ended, "session", "ended")
            )?;
        }
        SessionsAction::Destroy { id, owner: None } => {
            let id = id.unwrap_or_default();
            let ids = manager.ids();
            let Some(sid) = manager.parse_id(id.trim()) else {
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

/// Prints an owner's sessions: one line each, then the count; or JSON.
fn print_list(
    owner: &str,
    listed: &[OwnedSession],
    as_json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if as_json {
        let sessions: Vec<_> = listed
            .iter()
            .map(|s| {
                json!({
                    "fingerprint": s.fingerprint,
                    "created": s.created_ms.map(utc),
                    "last_access": s.accessed_ms.map(utc),
                    "created_ms": s.created_ms,
                    "last_access_ms": s.accessed_ms,
                })
            })
            .collect();
        let doc = json!({ "owner": owner, "count": listed.len(), "sessions": sessions });
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    if !listed.is_empty() {
        writeln!(out, "{:<12}  {:<23}  LAST ACCESS", "FINGERPRINT", "CREATED")?;
    }
    let known = |ms: Option<u64>| ms.map_or_else(|| "unknown".to_owned(), utc);
    for s in listed {
        writeln!(
            out,
            "{:<12}  {:<23}  {}",
            s.fingerprint,
            known(s.created_ms),
            known(s.accessed_ms)
        )?;
    }
    writeln!(
        out,
        "owner {owner:?}: {}",
        plural(listed.len(), "live session", "")
    )?;
    Ok(())
}

/// `1 session ended`, `3 sessions ended`, `0 live sessions`.
fn plural(n: usize, noun: &str, verb: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {noun}{s} {verb}").trim_end().to_owned()
}

/// Milliseconds since the Unix epoch as `2026-11-27 20:41:07 UTC`.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for non-negative counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::{plural, utc};

    #[test]
    fn utc_times_read_as_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_812_067_999), "2026-11-27 20:41:07 UTC");
        assert_eq!(utc(4_107_542_399_000), "2100-02-28 23:59:59 UTC");
    }

    #[test]
    fn counts_are_plural_but_one() {
        assert_eq!(plural(1, "session", "ended"), "1 session ended");
        assert_eq!(plural(0, "live session", ""), "0 live sessions");
    }
}
