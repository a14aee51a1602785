//! `AppError`: the one error type of paydesk, with the code callers see (the server maps it to an HTTP status and
//! to GraphQL's `extensions.code`). Internal details are logged, never returned.

use sea_orm::DbErr;

/// Everything that can go wrong in a request, as the caller should see it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    ReserveViolation(String),
    #[error("{0}")]
    InvalidState(String),
    /// Payouts are held (all of them, or this freelancer's) by an admin.
    #[error("{0}")]
    OnHold(String),
    /// Something we depend on is missing or down; retrying later can help.
    #[error("{0}")]
    Unavailable(String),
    /// Events a caller asked to resume after are gone (deleted by retention).
    #[error("{0}")]
    EventsMissed(String),
    /// The caller spent its budget of requests; it may try again after this many seconds.
    #[error("{0}")]
    RateLimited(String, u64),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Shorthand for results of service functions.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The error code, on REST and GraphQL alike; UNAVAILABLE means "retry later".
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadInput(_) => "BAD_USER_INPUT",
            Self::ReserveViolation(_) => "RESERVE_VIOLATION",
            Self::InvalidState(_) => "INVALID_STATE",
            Self::OnHold(_) => "PAYOUTS_ON_HOLD",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::EventsMissed(_) => "EVENTS_MISSED",
            Self::RateLimited(..) => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The message a caller sees; for internal errors the cause is logged here instead.
    pub fn public_message(&self) -> String {
        if let Self::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        self.to_string()
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} {id} does not exist or is not visible to you"))
    }
}

/// Whether `e` means the database could not be reached (a retry later can help), not that a statement is wrong.
fn is_outage(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    let runtime = match e {
        // Not even a connection: whatever the server said (gone, restarting, refusing), later may work.
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(s) => {
            crate::db::connection_lost(s)
                || matches!(s.as_ref(), Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_))
        }
        RuntimeErr::Internal(_) => false,
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        if is_outage(&e) {
            tracing::error!(error = %e, "database unavailable");
            return Self::Unavailable("the database is unavailable; try again shortly".into());
        }
        if let Some(hint) = crate::db::behind_transaction_pooler(&e.to_string()) {
            return Self::Internal(anyhow::Error::from(e).context(hint));
        }
        Self::Internal(e.into())
    }
}
