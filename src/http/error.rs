//! HTTP's side of `AppError`: each error's status, and the JSON body every REST error has,
//! `{"error": {"code", "message"}}`.

use crate::error::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The HTTP status of `e` on REST routes.
pub fn status(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadInput(_) => StatusCode::BAD_REQUEST,
        AppError::ReserveViolation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::InvalidState(_) => StatusCode::CONFLICT,
        AppError::OnHold(_) => StatusCode::LOCKED,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::EventsMissed(_) => StatusCode::GONE,
        AppError::RateLimited(..) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A REST route's error: an `AppError`, answered with its status and code.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.0.code(), "message": self.0.public_message() } });
        let mut response = (status(&self.0), axum::Json(body)).into_response();
        if let AppError::RateLimited(_, secs) = &self.0 {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, (*secs).into());
        }
        response
    }
}
