//! Removing what a bench wrote to Redis, shared by the benches that use it.

/// The Redis the benches write to (never the shared 6379 by default).
pub fn redis_url() -> String {
    std::env::var("ACTIX_BEE_REDIS_PRIVATE_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6399/".into())
}

/// Deletes every key under `prefix`; best effort, a bench result does not
/// depend on it.
pub fn delete_prefixed(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return;
    };
    let Ok(mut c) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg(format!("{prefix}*"))
        .arg("COUNT")
        .arg(10_000)
        .clone()
        .iter(&mut c)
        .map(|it| it.filter_map(Result::ok).collect())
        .unwrap_or_default();
    for chunk in keys.chunks(500) {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(chunk).query(&mut c);
    }
}
