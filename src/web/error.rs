//! Session errors as HTTP responses: a fixed text body, the cause in the log.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::session::Error;

/// Body of every 500 the web layer writes.
pub(crate) const INTERNAL_ERROR_BODY: &str = "Internal Server Error";
/// Body of every 503 the web layer writes.
pub(crate) const UNAVAILABLE_BODY: &str = "Service Unavailable";

/// A response with `status` and its fixed text, never an error's `Display`
/// (which may name a path or a host; security checklist item 40).
pub(crate) fn fixed_response(status: StatusCode) -> HttpResponse {
    let body = if status == StatusCode::SERVICE_UNAVAILABLE {
        UNAVAILABLE_BODY
    } else {
        INTERNAL_ERROR_BODY
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Logs `err` with its causes. Session errors never carry ids or values.
pub(crate) fn log_failure(what: &str, err: &Error) {
    let mut causes = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        causes.push_str(": ");
        causes.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %err, causes = %causes, "{what}");
}

/// 503 for a backend that is down (retrying may help), 500 otherwise.
impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        if self.is_transient() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }

    fn error_response(&self) -> HttpResponse {
        log_failure("session error", self);
        fixed_response(self.status_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_fixed() {
        let err = Error::backend("redis", std::io::Error::other("10.0.0.7:6379 refused"));
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            Error::config("file", "/etc/secret").status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        // A full engine is a 503 (retry later), an oversized session a 500.
        let full = Error::Full {
            engine: "file",
            what: "sessions",
            limit: 10,
        };
        assert_eq!(full.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let too_large = Error::TooLarge {
            what: "session",
            size: 2,
            limit: 1,
        };
        assert_eq!(too_large.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            fixed_response(StatusCode::BAD_GATEWAY).status(),
            StatusCode::BAD_GATEWAY
        );
    }
}
