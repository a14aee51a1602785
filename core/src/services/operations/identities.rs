//! Who a request comes from: a token paydesk signed (HS256, `JWT_SECRET`) or one the marketplace's identity
//! provider signed (`auth::oidc`), and which principal that is.
//!
//! A provider names people by its own subjects, any string. Staff act as their subject when it is a UUID, else as a
//! UUID derived from the issuer and the subject (the same one every time, so the audit trail and four-eyes
//! checks see one person). A freelancer acts for a wallet: the one an admin linked their subject to
//! (`linkIdentity`, audited), or, unlinked, the wallet their subject names when it is a UUID; a freelancer whose
//! subject is neither is refused until an admin links it.

use crate::auth::oidc::Identity;
use crate::auth::{roles, Caller, Principal};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use entity::identity_link as link;
use entity::status::Role;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

/// The namespace of the UUIDs derived for staff from an issuer and a subject.
const STAFF_IDS: Uuid = Uuid::from_u128(0x7061_7964_6573_6b2d_7374_6166_6669_6473);

/// The caller an `Authorization` header value describes, and when its token expires (epoch seconds): on HTTP
/// and on a WebSocket's `connection_init` alike.
pub async fn session(state: &AppState, authorization: Option<&str>) -> (Caller, Option<i64>) {
    let (caller, exp) = verified(state, authorization).await;
    // However a token was signed, one that lives longer than the setting allows is refused: a token leaked today
    // must not stay admin for years.
    let max = state.settings.jwt_max_ttl;
    let left = exp.map(|exp| exp - chrono::Utc::now().timestamp());
    if let (Caller::User(_), Some(left)) = (&caller, left) {
        if left > i64::try_from(max.as_secs()).unwrap_or(i64::MAX) {
            let why = format!(
                "the token expires in {}, later than the {} PAYDESK_JWT_MAX_TTL allows: get one that expires sooner",
                humantime::format_duration(std::time::Duration::from_secs(left.unsigned_abs())),
                humantime::format_duration(max)
            );
            return (Caller::Invalid(why), None);
        }
    }
    (caller, exp)
}

async fn verified(state: &AppState, authorization: Option<&str>) -> (Caller, Option<i64>) {
    let token = match crate::auth::bearer(authorization) {
        Ok(Some(token)) => token,
        Ok(None) => return (Caller::Anonymous, None),
        Err(why) => return (Caller::Invalid(why), None),
    };
    let idp = match &state.idp {
        Some(idp) if !crate::auth::is_hs256(token) => idp,
        Some(_) if !state.settings.hs256 => {
            let why = "this server takes the identity provider's tokens only (JWT_SECRET is not set)";
            return (Caller::Invalid(why.into()), None);
        }
        _ => return state.jwt.session(token),
    };
    let identity = match idp.verify(token).await {
        Ok(identity) => identity,
        Err(why) => return (Caller::Invalid(why), None),
    };
    match principal_of(&state.reads, &identity).await {
        Ok(p) => (Caller::User(p), Some(identity.exp)),
        Err(e) => (Caller::Invalid(e), None),
    }
}

/// The principal a provider's `identity` acts as.
async fn principal_of(db: &impl ConnectionTrait, identity: &Identity) -> Result<Principal, String> {
    let Identity { issuer, subject, role, .. } = identity;
    let id = match role {
        Role::Freelancer => match linked(db, issuer, subject).await {
            Ok(Some(wallet)) => wallet,
            Ok(None) => Uuid::parse_str(subject).map_err(|_| {
                format!("no wallet is linked to subject `{subject}` of {issuer}: an admin links it with `linkIdentity`")
            })?,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the identity links");
                return Err("the caller's wallet cannot be looked up now; try again shortly".into());
            }
        },
        _ => Uuid::parse_str(subject).unwrap_or_else(|_| staff_id(issuer, subject)),
    };
    Ok(Principal { id, role: *role })
}

/// The id a member of staff whose subject is not a UUID acts as.
pub fn staff_id(issuer: &str, subject: &str) -> Uuid {
    Uuid::new_v5(&STAFF_IDS, format!("{issuer}\n{subject}").as_bytes())
}

async fn linked(db: &impl ConnectionTrait, issuer: &str, subject: &str) -> AppResult<Option<Uuid>> {
    let found = link::Entity::find_by_id((issuer.to_owned(), subject.to_owned())).one(db).await?;
    Ok(found.map(|l| l.freelancer_id))
}

/// Links the provider's `subject` (of `issuer`, the configured provider's by default) to `freelancer`'s wallet,
/// replacing any earlier link of that subject; audited.
pub async fn link(
    state: &AppState,
    who: Principal,
    issuer: Option<String>,
    subject: String,
    freelancer: Uuid,
) -> AppResult<link::Model> {
    who.require(roles::ADMIN)?;
    let issuer = match issuer.or_else(|| state.idp.as_ref().map(|idp| idp.settings().issuer.clone())) {
        Some(issuer) => required("issuer", issuer)?,
        None => {
            return Err(AppError::BadInput(
                "no identity provider is configured (PAYDESK_OIDC_ISSUER): name the `issuer`".into(),
            ))
        }
    };
    let subject = required("subject", subject)?;
    let txn = crate::db::begin(&state.db).await?;
    let before = link::Entity::find_by_id((issuer.clone(), subject.clone())).one(&txn).await?;
    let row = link::Model {
        issuer: issuer.clone(),
        subject: subject.clone(),
        freelancer_id: freelancer,
        linked_by: Some(who.id),
        linked_at: crate::clock::now(),
    };
    link::Entity::insert(link::ActiveModel::from(row.clone()))
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([link::Column::Issuer, link::Column::Subject])
                .update_columns([link::Column::FreelancerId, link::Column::LinkedBy, link::Column::LinkedAt])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::IdentityLinked,
            entity_type: Subject::Wallet,
            entity_id: freelancer,
            before: before
                .map(|b| json!({ "issuer": b.issuer, "subject": b.subject, "freelancerId": b.freelancer_id })),
            after: Some(json!({ "issuer": issuer, "subject": subject, "freelancerId": freelancer })),
            reason: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A one-line name the link is keyed by: not blank, at most 255 characters, no control characters.
fn required(field: &str, value: String) -> AppResult<String> {
    text::label(field, Some(value), 255)?.ok_or_else(|| AppError::BadInput(format!("{field} must not be empty")))
}
