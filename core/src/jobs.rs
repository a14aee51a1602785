//! Background jobs: each instance runs the same ones on a timer, and the database's claims share their work out
//! among the instances (every event and job claim goes through the database).

/// How long one run of a background job every `period` may take: five periods, and at least a minute (its work is
/// claimed in the database and idempotent, so a run stopped half way is finished by a later one).
pub fn job_limit(period: std::time::Duration) -> std::time::Duration {
    (period * 5).max(std::time::Duration::from_secs(60))
}

/// Runs `job` now and then every `period`, for as long as the process lives: a background job of one instance, whose
/// work the database's claims share out among all of them. Says how many it handled when any, and when it failed (it
/// tries again at the next tick). A run that takes longer than [`job_limit`] is stopped, as a request would be: one
/// stuck on a database connection that went silent lets go of it instead of holding a pool slot for good.
pub fn every<F, Fut>(period: std::time::Duration, what: &'static str, job: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::error::AppResult<u64>> + Send,
{
    every_after(std::time::Duration::ZERO, period, what, job)
}

/// As [`every`], first run `delay` after now.
pub fn every_after<F, Fut>(delay: std::time::Duration, period: std::time::Duration, what: &'static str, mut job: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::error::AppResult<u64>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + delay, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let limit = job_limit(period);
        loop {
            tick.tick().await;
            match tokio::time::timeout(limit, job()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(n, "{what}"),
                Ok(Err(e)) => tracing::warn!(error = %e, "{what}: failed; will try again"),
                Err(_) => {
                    tracing::warn!(limit_secs = limit.as_secs(), "{what}: stopped after its time limit; will try again")
                }
            }
        }
    });
}
