//! JWT auth: minting and verifying HS256 tokens, and the `Caller` built once per request at the edge.

use crate::error::AppError;
use entity::status::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The claims paydesk issues and accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
}

/// An authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub id: Uuid,
    pub role: Role,
}

impl Principal {
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Ops)
    }
}

/// Who is calling, decided once per request or WebSocket connection.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No credentials were sent.
    Anonymous,
    /// Credentials were sent but do not hold; the reason is safe to show.
    Invalid(String),
    User(Principal),
}

impl Caller {
    /// The principal, or UNAUTHENTICATED saying why not.
    pub fn principal(&self) -> Result<Principal, AppError> {
        match self {
            Caller::User(p) => Ok(*p),
            Caller::Anonymous => Err(AppError::Unauthenticated("sign in: send `Authorization: Bearer <JWT>`".into())),
            Caller::Invalid(why) => Err(AppError::Unauthenticated(why.clone())),
        }
    }
}

/// The HS256 keys and the validation rules.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 5;
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    /// A signed token for `sub` in `role`, valid for `ttl`.
    pub fn mint(&self, sub: Uuid, role: Role, ttl: Duration) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims { sub, role, iat: now, exp: now + i64::try_from(ttl.as_secs())? };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Checks signature, algorithm and expiry; only HS256 with admin, ops or freelancer passes.
    pub fn verify(&self, token: &str) -> Result<Principal, String> {
        use jsonwebtoken::errors::ErrorKind;
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired; get a new one".to_owned(),
                ErrorKind::InvalidSignature => "the token's signature does not verify".to_owned(),
                ErrorKind::InvalidAlgorithm => "the token must be signed with HS256".to_owned(),
                ErrorKind::MissingRequiredClaim(c) => format!("the token lacks the `{c}` claim"),
                ErrorKind::Json(e) => format!("the token's claims are incomplete: {e}"),
                _ => "the token is not a valid JWT".to_owned(),
            })?;
        if data.claims.role == Role::System {
            return Err("the token's role must be admin, ops or freelancer".into());
        }
        Ok(Principal { id: data.claims.sub, role: data.claims.role })
    }

    /// The caller an `Authorization` header value describes.
    pub fn caller(&self, authorization: Option<&str>) -> Caller {
        let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
            return Caller::Anonymous;
        };
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Caller::Invalid("the Authorization header must be `Bearer <JWT>`".into()),
        };
        match self.verify(token) {
            Ok(p) => Caller::User(p),
            Err(why) => Caller::Invalid(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_and_a_foreign_one_does_not() {
        let keys = JwtKeys::new(b"one secret");
        let other = JwtKeys::new(b"another secret");
        let id = Uuid::new_v4();
        let token = keys.mint(id, Role::Ops, Duration::from_secs(60)).unwrap();
        assert_eq!(keys.verify(&token), Ok(Principal { id, role: Role::Ops }));
        assert!(other.verify(&token).unwrap_err().contains("signature"));
    }

    #[test]
    fn a_header_without_bearer_is_invalid_not_anonymous() {
        let keys = JwtKeys::new(b"s");
        assert!(matches!(keys.caller(Some("Basic abc")), Caller::Invalid(_)));
        assert!(matches!(keys.caller(None), Caller::Anonymous));
    }
}
