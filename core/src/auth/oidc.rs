//! Tokens from the marketplace's own identity provider (Keycloak, Auth0, Okta, Cognito, Google, …): signed with
//! the provider's keys, which paydesk reads from its JWKS, found through OpenID discovery
//! (`{issuer}/.well-known/openid-configuration`) or named outright.
//!
//! The keys are cached. A token naming a key paydesk has not seen makes it read the JWKS again, at most once per
//! `min_refresh` (tokens with made-up key ids cannot make it hammer the provider); the whole set is read again
//! every `keys_ttl`. A read that fails keeps the keys already held, so a provider that is down stops no caller
//! whose key is known, and readiness says the keys are stale. A rotation at the provider (a new key published
//! beside the old, then the old withdrawn) needs no restart and drops no request.
//!
//! RS256/384/512, PS256/384/512, ES256/384 and EdDSA; `iss`, `aud`, `exp` and `nbf` are checked with a small
//! leeway. The role comes from a configurable claim (a path such as `realm_access.roles`, or a whole name such as
//! `https://paydesk/role`), a string or a list, mapped from the provider's names to paydesk's roles; the subject
//! from a configurable claim, any string.

use entity::status::Role;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::ActiveEnum;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The algorithms a provider's token may be signed with: asymmetric only (HS256 is paydesk's own, `JwtKeys`).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The roles a token may give, lowest first.
const SIGNED_IN: [Role; 3] = [Role::Freelancer, Role::Ops, Role::Admin];

/// How many verified tokens are remembered: more than the callers signed in at once.
const VERIFIED_TOKENS: usize = 4096;

/// How long one read of the discovery document or the JWKS may take.
const FETCH_WITHIN: Duration = Duration::from_secs(5);

/// How paydesk trusts the identity provider.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The provider's issuer identifier: the `iss` its tokens carry.
    pub issuer: String,
    /// Where its keys are; none to find them through discovery.
    pub jwks_url: Option<String>,
    /// What tokens meant for paydesk carry in `aud`.
    pub audience: String,
    /// Where the role is: a claim's whole name, or a dotted path into nested claims.
    pub role_claim: String,
    /// The provider's role names and the paydesk role each is.
    pub roles: Vec<(String, Role)>,
    /// Where the subject is (`sub` unless told otherwise).
    pub subject_claim: String,
    /// How long a read JWKS is used before it is read again.
    pub keys_ttl: Duration,
    /// The least time between two reads of the JWKS prompted by unknown keys.
    pub min_refresh: Duration,
    /// Seconds of clock difference forgiven on `exp` and `nbf`.
    pub leeway: u64,
    /// The console's public client at the provider and the scopes it asks for, if the console signs in there.
    pub console: Option<(String, String)>,
}

impl Settings {
    /// `name=role` pairs (`paydesk-admin=admin,paydesk-ops=ops`), as `PAYDESK_ROLE_MAP` gives them; none:
    /// `admin`, `ops` and `freelancer` as they are.
    pub fn parse_roles(pairs: &[String]) -> anyhow::Result<Vec<(String, Role)>> {
        let pairs: Vec<&String> = pairs.iter().filter(|p| !p.trim().is_empty()).collect();
        if pairs.is_empty() {
            return Ok(SIGNED_IN.iter().map(|r| (r.to_value(), *r)).collect());
        }
        pairs
            .into_iter()
            .map(|pair| {
                let (name, role) =
                    pair.split_once('=').ok_or_else(|| anyhow::anyhow!("`{pair}` is not `name=role`"))?;
                let role = SIGNED_IN
                    .iter()
                    .find(|r| r.to_value() == role.trim())
                    .ok_or_else(|| anyhow::anyhow!("`{}` is not a role: admin, ops or freelancer", role.trim()))?;
                Ok((name.trim().to_owned(), *role))
            })
            .collect()
    }
}

/// Who a provider's token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub role: Role,
    /// When the token expires, in epoch seconds.
    pub exp: i64,
}

/// The keys held, and how the last read of them went.
#[derive(Default)]
struct Keys {
    /// By key id (a key published without one under "").
    by_kid: HashMap<String, (DecodingKey, Algorithm)>,
    /// When they were read.
    read_at: Option<Instant>,
    /// Why the last read failed, when it did (the keys above are then older).
    failing: Option<String>,
}

/// An identity provider paydesk trusts: its settings and its cached keys.
pub struct Provider {
    settings: Settings,
    http: reqwest::Client,
    keys: RwLock<Arc<Keys>>,
    /// When the last read prompted by an unknown key started; held while a read is under way, so that callers
    /// arriving together wait for one read instead of starting their own.
    refreshing: tokio::sync::Mutex<Option<Instant>>,
    /// Reads of the JWKS made, for `/metrics` and the tests.
    pub reads: AtomicU64,
    /// Tokens that passed every check, with what they say: a dashboard sends the same token with every request,
    /// and checking an RSA signature each time is most of a small read's CPU. Expiry is checked on every use.
    /// Tokens already verified, with the `kid` of the key that signed them: one is taken again only while that key
    /// is still in the provider's key set.
    verified: quick_cache::sync::Cache<String, (Identity, String)>,
    /// The origin of the token endpoint the discovery document names, once read (the console's page may talk to it).
    token_origin: RwLock<Option<String>>,
}

impl Provider {
    pub fn new(settings: Settings) -> Arc<Self> {
        let http = reqwest::Client::builder().timeout(FETCH_WITHIN).build().unwrap_or_default();
        Arc::new(Provider {
            settings,
            http,
            keys: RwLock::default(),
            refreshing: tokio::sync::Mutex::new(None),
            reads: AtomicU64::new(0),
            verified: quick_cache::sync::Cache::new(VERIFIED_TOKENS),
            token_origin: RwLock::default(),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The origin of the provider's token endpoint, as its discovery document names it (Google's and Cognito's are
    /// not the issuer's); read once, and again after a read that failed.
    pub async fn token_origin(&self) -> Option<String> {
        if let Some(origin) = self.token_origin.read().ok().and_then(|o| o.clone()) {
            return Some(origin);
        }
        let issuer = self.settings.issuer.trim_end_matches('/');
        let found = self.get_json(&format!("{issuer}/.well-known/openid-configuration")).await.ok()?;
        let endpoint = url::Url::parse(found["token_endpoint"].as_str()?).ok()?;
        let origin = endpoint.origin().ascii_serialization();
        if let Ok(mut kept) = self.token_origin.write() {
            *kept = Some(origin.clone());
        }
        Some(origin)
    }

    /// Reads the keys once now, then every `keys_ttl` for as long as the process runs.
    pub async fn start(self: &Arc<Self>) {
        self.read_keys().await;
        let me = Arc::downgrade(self);
        let every = self.settings.keys_ttl;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(me) = me.upgrade() else { return };
                me.read_keys().await;
            }
        });
    }

    /// Reads the JWKS and keeps what it holds; on failure keeps the keys held and says why.
    async fn read_keys(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let read = self.fetch().await;
        let mut held = self.keys.write().unwrap_or_else(|e| e.into_inner());
        match read {
            Ok(by_kid) => {
                tracing::info!(issuer = %self.settings.issuer, keys = by_kid.len(), "identity provider's keys read");
                *held = Arc::new(Keys { by_kid, read_at: Some(Instant::now()), failing: None });
            }
            Err(why) => {
                tracing::warn!(issuer = %self.settings.issuer, %why, "identity provider's keys could not be read");
                let kept = Keys { by_kid: held.by_kid.clone(), read_at: held.read_at, failing: Some(why) };
                *held = Arc::new(kept);
            }
        }
    }

    /// Reads the keys again for a token naming one not held, unless a read started less than `min_refresh` ago.
    async fn read_for_unknown_key(&self) {
        let mut last = self.refreshing.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.settings.min_refresh) {
            return;
        }
        *last = Some(Instant::now());
        self.read_keys().await;
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let res = self.http.get(url).send().await.map_err(|e| format!("{url}: {}", short(&e)))?;
        if !res.status().is_success() {
            return Err(format!("{url} answered {}", res.status()));
        }
        res.json().await.map_err(|e| format!("{url} did not answer JSON: {}", short(&e)))
    }

    /// The JWKS's usable keys, by key id.
    async fn fetch(&self) -> Result<HashMap<String, (DecodingKey, Algorithm)>, String> {
        let url = match &self.settings.jwks_url {
            Some(url) => url.clone(),
            None => {
                let issuer = self.settings.issuer.trim_end_matches('/');
                let found = self.get_json(&format!("{issuer}/.well-known/openid-configuration")).await?;
                if found["issuer"].as_str() != Some(self.settings.issuer.as_str()) {
                    return Err(format!(
                        "the discovery document names issuer {}, not {}",
                        found["issuer"], self.settings.issuer
                    ));
                }
                found["jwks_uri"].as_str().ok_or("the discovery document has no `jwks_uri`")?.to_owned()
            }
        };
        let set: JwkSet =
            serde_json::from_value(self.get_json(&url).await?).map_err(|e| format!("{url} is not a JWKS: {e}"))?;
        let mut by_kid = HashMap::new();
        for jwk in &set.keys {
            if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
                continue;
            }
            let Some(alg) = algorithm_of(jwk) else { continue };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    by_kid.insert(jwk.common.key_id.clone().unwrap_or_default(), (key, alg));
                }
                Err(e) => tracing::warn!(kid = ?jwk.common.key_id, error = %e, "skipped an unusable key in the JWKS"),
            }
        }
        if by_kid.is_empty() {
            return Err(format!("{url} holds no signing key paydesk can use"));
        }
        Ok(by_kid)
    }

    fn key(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).by_kid.get(kid).cloned()
    }

    /// Checks a token signed by the provider; the reason it fails is safe to show (it never repeats the token).
    pub async fn verify(&self, token: &str) -> Result<Identity, String> {
        if let Some((known, kid)) = self.verified.get(token) {
            // An expired one, or one whose key the provider has withdrawn, goes on to be refused by the decoder,
            // with its reason.
            let live = known.exp + self.settings.leeway as i64 >= chrono::Utc::now().timestamp();
            if live && self.key(&kid).is_some() {
                return Ok(known);
            }
            self.verified.remove(token);
        }
        let (identity, kid) = self.check(token).await?;
        self.verified.insert(token.to_owned(), (identity.clone(), kid));
        Ok(identity)
    }

    async fn check(&self, token: &str) -> Result<(Identity, String), String> {
        use jsonwebtoken::errors::ErrorKind;
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the token is not a valid JWT".to_owned())?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(format!(
                "the token is signed with {:?}: the identity provider's tokens must use RS256, ES256, EdDSA or \
                 another asymmetric algorithm",
                header.alg
            ));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let (key, alg) = match self.key(&kid) {
            Some(found) => found,
            None => {
                self.read_for_unknown_key().await;
                self.key(&kid).ok_or_else(|| self.unknown_key(&kid))?
            }
        };
        if alg != header.alg {
            return Err(format!("the token says {:?} but its key `{kid}` is for {alg:?}", header.alg));
        }
        let s = &self.settings;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&s.issuer]);
        validation.set_audience(&[&s.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = s.leeway;
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => "the token has expired; get a new one".to_owned(),
            ErrorKind::ImmatureSignature => "the token is not valid yet (its `nbf` is in the future)".to_owned(),
            ErrorKind::InvalidIssuer => format!("the token was not issued by {}", s.issuer),
            ErrorKind::InvalidAudience => {
                format!("the token is not meant for paydesk: its `aud` lacks `{}`", s.audience)
            }
            ErrorKind::InvalidSignature => format!("the token's signature does not verify with key `{kid}`"),
            ErrorKind::MissingRequiredClaim(c) => format!("the token lacks the `{c}` claim"),
            other => {
                tracing::info!(detail = ?other, "refused a provider's token that does not decode");
                "the token is not a valid JWT".to_owned()
            }
        })?;
        if data.header.crit.is_some() {
            return Err("the token's header lists critical extensions (`crit`) that paydesk does not support".into());
        }
        let claims = data.claims;
        // The decoder takes an `iss` list that contains the issuer; the issuer is one string.
        if claims["iss"].as_str() != Some(s.issuer.as_str()) {
            return Err(format!("the token was not issued by {}: its `iss` must be that string", s.issuer));
        }
        let role = self.role_of(&claims)?;
        let subject = match claim(&claims, &s.subject_claim) {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(format!("the token lacks the `{}` claim naming its subject", s.subject_claim)),
        };
        let exp = claims["exp"].as_i64().ok_or("the token's `exp` is not a number of seconds")?;
        Ok((Identity { issuer: s.issuer.clone(), subject, role, exp }, kid))
    }

    fn unknown_key(&self, kid: &str) -> String {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        match &keys.failing {
            Some(why) => format!(
                "the token's key `{kid}` is not known, and the identity provider's keys cannot be read now ({why})"
            ),
            None => format!("the token's key `{kid}` is not among the identity provider's keys"),
        }
    }

    /// The paydesk role the token's role claim names (the highest, if it names several).
    fn role_of(&self, claims: &Value) -> Result<Role, String> {
        let s = &self.settings;
        let names: Vec<&str> = match claim(claims, &s.role_claim) {
            Some(Value::String(one)) => one.split_whitespace().collect(),
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => return Err(format!("the token lacks the `{}` claim naming its role", s.role_claim)),
        };
        let role_of = |name: &str| s.roles.iter().find(|(n, _)| n == name).map(|(_, r)| *r);
        let rank = |r: &Role| SIGNED_IN.iter().position(|s| s == r);
        names.into_iter().filter_map(role_of).max_by_key(rank).ok_or_else(|| {
            format!("the token's `{}` claim names no role paydesk maps (see PAYDESK_ROLE_MAP)", s.role_claim)
        })
    }

    /// How the keys stand, for readiness: whether any are held, when they were read, why a read failed.
    pub fn health(&self) -> (bool, Value) {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let usable = !keys.by_kid.is_empty();
        let status = match (usable, &keys.failing) {
            (false, _) => "unavailable",
            (true, Some(_)) => "stale",
            (true, None) => "ok",
        };
        let report = json!({
            "status": status,
            "issuer": self.settings.issuer,
            "keys": keys.by_kid.len(),
            "readSecondsAgo": keys.read_at.map(|t| t.elapsed().as_secs()),
            "error": keys.failing,
        });
        (usable, report)
    }
}

/// A claim by its whole name, else by a dotted path into nested objects.
fn claim<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    claims.get(path).or_else(|| path.split('.').try_fold(claims, |v, k| v.get(k)))
}

/// The algorithm a key is for: as the key says (`alg`), else what its type implies.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(alg) = &jwk.common.key_algorithm {
        let alg = match alg {
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::RS384 => Algorithm::RS384,
            KeyAlgorithm::RS512 => Algorithm::RS512,
            KeyAlgorithm::PS256 => Algorithm::PS256,
            KeyAlgorithm::PS384 => Algorithm::PS384,
            KeyAlgorithm::PS512 => Algorithm::PS512,
            KeyAlgorithm::ES256 => Algorithm::ES256,
            KeyAlgorithm::ES384 => Algorithm::ES384,
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
            _ => return None,
        };
        return Some(alg);
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// An HTTP client's error without the chain of sources reqwest prints.
fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_found_by_its_whole_name_or_by_a_path() {
        let claims =
            json!({ "https://paydesk/role": "ops", "realm_access": { "roles": ["offline", "paydesk-admin"] } });
        assert_eq!(claim(&claims, "https://paydesk/role"), Some(&json!("ops")));
        assert_eq!(claim(&claims, "realm_access.roles"), Some(&json!(["offline", "paydesk-admin"])));
        assert_eq!(claim(&claims, "realm_access.missing"), None);
    }

    #[test]
    fn a_role_map_is_read_and_refuses_unknown_roles() {
        let roles = Settings::parse_roles(&["paydesk-admin=admin".into(), " staff = ops ".into()]).unwrap();
        assert_eq!(roles, vec![("paydesk-admin".into(), Role::Admin), ("staff".into(), Role::Ops)]);
        assert!(Settings::parse_roles(&["x=root".into()]).unwrap_err().to_string().contains("not a role"));
        assert!(Settings::parse_roles(&["admin".into()]).is_err());
        assert!(Settings::parse_roles(&["x=system".into()]).is_err(), "paydesk's own role is no caller's");
        let plain = Settings::parse_roles(&[]).unwrap();
        assert_eq!(
            plain,
            vec![("freelancer".into(), Role::Freelancer), ("ops".into(), Role::Ops), ("admin".into(), Role::Admin)]
        );
    }
}
