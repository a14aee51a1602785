//! GraphQL's side of `AppError`: a resolver's error carries the error's public message and its code in
//! `extensions.code`.

use crate::error::AppError;
use async_graphql::ErrorExtensions;

/// `e` as a GraphQL error with `extensions.code`.
pub fn to_graphql(e: &AppError) -> async_graphql::Error {
    let code = e.code();
    let retry_after = match e {
        AppError::RateLimited(_, secs) => Some(*secs),
        _ => None,
    };
    async_graphql::Error::new(e.public_message()).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(secs) = retry_after {
            ext.set("retryAfter", secs);
        }
    })
}

/// What a resolver fails with: an `AppError` (mapped by `to_graphql`) or an error async-graphql raised itself.
#[derive(Debug, Clone)]
pub struct Error(async_graphql::Error);

/// The result of a resolver.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<AppError> for Error {
    fn from(e: AppError) -> Self {
        Self(to_graphql(&e))
    }
}

impl From<async_graphql::Error> for Error {
    fn from(e: async_graphql::Error) -> Self {
        Self(e)
    }
}

impl From<Error> for async_graphql::Error {
    fn from(e: Error) -> Self {
        e.0
    }
}
