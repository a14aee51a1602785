//! JWT auth: minting and verifying HS256 tokens, and the `Caller` built once per request at the edge. Tokens of
//! the marketplace's identity provider are checked by [`oidc`].

pub mod oidc;

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

    /// Only staff (admin, ops) may read this.
    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.is_staff() {
            return Ok(());
        }
        Err(AppError::Forbidden("only admin and ops may read this".into()))
    }

    /// Whether the caller holds one of `roles`: FORBIDDEN, naming the caller's role, if not. Every service that
    /// changes state asks this first, whoever calls it (GraphQL, REST, the command line).
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        Err(AppError::Forbidden(format!("the {:?} role may not do this", self.role).to_lowercase()))
    }
}

/// Who may do what: the role sets that services require and GraphQL fields are guarded by.
pub mod roles {
    use entity::status::Role;

    /// Admin, ops and freelancers alike (rows are then scoped by the services).
    pub const ANYONE: &[Role] = &[Role::Admin, Role::Ops, Role::Freelancer];
    /// Admin and ops.
    pub const STAFF: &[Role] = &[Role::Admin, Role::Ops];
    /// Admin only.
    pub const ADMIN: &[Role] = &[Role::Admin];
    /// Admin, or a freelancer acting on their own wallet.
    pub const ADMIN_OR_FREELANCER: &[Role] = &[Role::Admin, Role::Freelancer];
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

/// How many verified tokens are remembered: more than the callers signed in at once.
const VERIFIED_TOKENS: usize = 4096;

/// The HS256 keys and the validation rules.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature already verified, with what they say: a dashboard sends the same token with
    /// every request, and checking its signature and decoding its claims each time is a good part of a small
    /// read's CPU. Only tokens that passed every check get here; expiry is checked again on every use.
    verified: quick_cache::sync::Cache<String, (Principal, i64)>,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: quick_cache::sync::Cache::new(VERIFIED_TOKENS),
        }
    }

    /// A signed token for `sub` in `role`, valid for `ttl`.
    pub fn mint(&self, sub: Uuid, role: Role, ttl: Duration) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims { sub, role, iat: now, exp: now + i64::try_from(ttl.as_secs())? };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Checks signature, algorithm, expiry and `nbf`; only HS256 with admin, ops or freelancer, and no critical
    /// header extension, passes.
    /// The reason given is safe to show; what the decoder said in detail goes to the log only.
    pub fn verify(&self, token: &str) -> Result<(Principal, i64), String> {
        use jsonwebtoken::errors::ErrorKind;
        if let Some((who, exp)) = self.verified.get(token) {
            // The same expiry rule as the decoder's; an expired token goes on to be refused by it, with its reason.
            if exp + self.validation.leeway as i64 >= chrono::Utc::now().timestamp() {
                return Ok((who, exp));
            }
        }
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired; get a new one".to_owned(),
                ErrorKind::ImmatureSignature => "the token is not valid yet (its `nbf` is in the future)".to_owned(),
                ErrorKind::InvalidSignature => "the token's signature does not verify".to_owned(),
                ErrorKind::InvalidAlgorithm => "the token must be signed with HS256".to_owned(),
                ErrorKind::MissingRequiredClaim(c) => format!("the token lacks the `{c}` claim"),
                // The header is JSON too: an `alg` the decoder does not know (`none`) fails as JSON.
                ErrorKind::Json(_) if jsonwebtoken::decode_header(token).is_err() => {
                    "the token must be signed with HS256".to_owned()
                }
                ErrorKind::Json(detail) => {
                    tracing::info!(%detail, "refused a token whose claims do not decode");
                    "the token's claims must be `sub` (a UUID), `role` (admin, ops or freelancer) and `exp`".to_owned()
                }
                other => {
                    tracing::info!(detail = ?other, "refused a token that does not decode");
                    "the token is not a valid JWT".to_owned()
                }
            })?;
        // RFC 7515 4.1.11: a header naming extensions as critical (`crit`) must be refused by a verifier that does
        // not understand them, and paydesk understands none.
        if let Some(crit) = &data.header.crit {
            tracing::info!(?crit, "refused a token with critical header extensions");
            return Err("the token's header lists critical extensions (`crit`) that paydesk does not support".into());
        }
        if data.claims.role == Role::System {
            return Err("the token's role must be admin, ops or freelancer".into());
        }
        let who = Principal { id: data.claims.sub, role: data.claims.role };
        self.verified.insert(token.to_owned(), (who, data.claims.exp));
        Ok((who, data.claims.exp))
    }

    /// The caller a bearer token of paydesk's own describes, and when it expires (epoch seconds).
    pub fn session(&self, token: &str) -> (Caller, Option<i64>) {
        match self.verify(token) {
            Ok((p, exp)) => (Caller::User(p), Some(exp)),
            Err(why) => (Caller::Invalid(why), None),
        }
    }
}

/// The token of an `Authorization` header value: none without one, an error (safe to show) for another scheme.
pub fn bearer(authorization: Option<&str>) -> Result<Option<&str>, String> {
    let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err("the Authorization header must be `Bearer <JWT>`".into()),
    }
}

/// Whether `token` says it is signed with HS256 (paydesk's own), or cannot be read at all (paydesk's verifier then
/// says why).
pub fn is_hs256(token: &str) -> bool {
    jsonwebtoken::decode_header(token).map_or(true, |h| h.alg == Algorithm::HS256)
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
        assert_eq!(keys.verify(&token).map(|(p, _)| p), Ok(Principal { id, role: Role::Ops }));
        assert!(other.verify(&token).unwrap_err().contains("signature"));
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let keys = JwtKeys::new(b"s");
        let (id, now) = (Uuid::new_v4(), chrono::Utc::now().timestamp());
        let claims = Claims { sub: id, role: Role::Admin, iat: now - 120, exp: now - 60 };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        // As if it had verified a minute ago, while it was still valid.
        keys.verified.insert(token.clone(), (Principal { id, role: Role::Admin }, claims.exp));
        assert_eq!(keys.verify(&token), Err("the token has expired; get a new one".to_owned()));
        let fresh = keys.mint(id, Role::Admin, Duration::from_secs(60)).unwrap();
        assert!(keys.verify(&fresh).is_ok() && keys.verify(&fresh).is_ok());
    }

    #[test]
    fn a_header_without_bearer_is_invalid_not_anonymous() {
        assert!(bearer(Some("Basic abc")).is_err());
        assert_eq!(bearer(None), Ok(None));
        assert_eq!(bearer(Some("  ")), Ok(None));
        assert_eq!(bearer(Some("bearer  t ")), Ok(Some("t")));
    }
}
