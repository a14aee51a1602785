//! Beneficiaries: where a freelancer's payouts go. Registered with Cashfree Payouts once (when configured) and
//! kept here only masked; every registration is audited.

use crate::auth::roles;
use crate::auth::Principal;
use crate::cashfree::payloads::{self, Beneficiary, CreateBeneficiary, Instrument};
use crate::cashfree::{Api, CallError, Repeat};
use crate::error::{AppError, AppResult};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use entity::beneficiary;
use entity::status::Role;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

/// A bank account or a UPI handle to register.
pub struct NewBeneficiary {
    pub freelancer_id: Uuid,
    pub name: String,
    pub bank_account_number: Option<String>,
    pub ifsc: Option<String>,
    pub vpa: Option<String>,
}

/// The instrument, checked: `(kind, masked, what Cashfree is sent)`.
fn instrument(b: &NewBeneficiary) -> AppResult<(&'static str, String, Instrument)> {
    match (&b.bank_account_number, &b.ifsc, &b.vpa) {
        (Some(account), Some(ifsc), None) => {
            let account = account.trim();
            let ifsc = ifsc.trim().to_ascii_uppercase();
            if !(9..=18).contains(&account.len()) || !account.bytes().all(|c| c.is_ascii_digit()) {
                return Err(AppError::BadInput("bankAccountNumber must be 9 to 18 digits".into()));
            }
            let ifsc_ok = ifsc.len() == 11
                && ifsc[..4].bytes().all(|c| c.is_ascii_uppercase())
                && ifsc.as_bytes()[4] == b'0'
                && ifsc[5..].bytes().all(|c| c.is_ascii_alphanumeric());
            if !ifsc_ok {
                return Err(AppError::BadInput(format!("ifsc {ifsc:?} is not an IFSC code such as HDFC0001234")));
            }
            let masked = format!("XXXXXX{} ({ifsc})", &account[account.len() - 4..]);
            let details =
                Instrument { bank_account_number: Some(account.to_owned()), bank_ifsc: Some(ifsc), vpa: None };
            Ok(("bank", masked, details))
        }
        (None, None, Some(vpa)) => {
            let vpa = vpa.trim();
            let valid = vpa.split_once('@').is_some_and(|(user, handle)| {
                (2..=256).contains(&user.len())
                    && user.bytes().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
                    && (2..=64).contains(&handle.len())
                    && handle.bytes().all(|c| c.is_ascii_alphabetic())
            });
            if !valid {
                return Err(AppError::BadInput(format!("vpa {vpa:?} is not a UPI handle such as name@okbank")));
            }
            let (user, handle) = vpa.split_once('@').unwrap_or_default();
            let details = Instrument { bank_account_number: None, bank_ifsc: None, vpa: Some(vpa.to_owned()) };
            Ok(("upi", format!("{}***@{handle}", &user[..2]), details))
        }
        _ => Err(AppError::BadInput("give either bankAccountNumber with ifsc, or vpa".into())),
    }
}

/// Registers (or replaces) a freelancer's beneficiary: with Cashfree first when Payouts is configured.
#[tracing::instrument(skip(state, b), fields(freelancer = %b.freelancer_id))]
pub async fn register(state: &AppState, who: Principal, b: NewBeneficiary) -> AppResult<beneficiary::Model> {
    who.require(roles::ADMIN_OR_FREELANCER)?;
    if who.role == Role::Freelancer && who.id != b.freelancer_id {
        return Err(AppError::Forbidden("freelancers may register only their own beneficiary".into()));
    }
    let name = crate::domain::text::label("name", Some(b.name.clone()), 100)?
        .ok_or_else(|| AppError::BadInput("name must not be empty".into()))?;
    let (kind, masked, details) = instrument(&b)?;
    let mut cf_id = format!("b{}", crate::clock::new_id().simple());
    if state.cashfree.configured(Api::Payouts) {
        let body = json!(CreateBeneficiary {
            beneficiary_id: cf_id.clone(),
            beneficiary_name: name.clone(),
            beneficiary_instrument_details: details.clone(),
        });
        let call = state.cashfree.call(Api::Payouts, Method::POST, "/beneficiary", Some(&body), None, Repeat::Safe);
        match call.await {
            Ok(_) => {}
            // Cashfree already has this instrument under a beneficiary of its own: payouts go to that one.
            Err(CallError::Refused { status: 409, .. }) => cf_id = existing(state, &details).await?,
            Err(e) => return Err(crate::cashfree::call_error(e)),
        }
    }
    let before = by_freelancer(&state.db, b.freelancer_id).await?;
    let now = crate::clock::now();
    let row = beneficiary::ActiveModel {
        id: Set(before.as_ref().map_or_else(crate::clock::new_id, |m| m.id)),
        freelancer_id: Set(b.freelancer_id),
        kind: Set(kind.into()),
        name: Set(name),
        masked: Set(masked),
        cf_beneficiary_id: Set(cf_id),
        created_at: Set(before.as_ref().map_or(now, |m| m.created_at)),
        updated_at: Set(now),
    };
    let saved = if before.is_some() { row.update(&state.db).await? } else { row.insert(&state.db).await? };
    audit::record(
        &state.db,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::BeneficiaryRegistered,
            entity_type: Subject::Beneficiary,
            entity_id: saved.id,
            before: before.map(|m| json!({ "kind": m.kind, "masked": m.masked })),
            after: Some(json!({ "kind": saved.kind, "masked": saved.masked })),
            reason: None,
        },
    )
    .await?;
    Ok(saved)
}

/// The id of the beneficiary Cashfree already holds for `details` (Get Beneficiary V2 by bank account and IFSC):
/// the id paydesk just made was never created there, so it must not be stored.
async fn existing(state: &AppState, details: &Instrument) -> AppResult<String> {
    let (Some(account), Some(ifsc)) = (&details.bank_account_number, &details.bank_ifsc) else {
        return Err(AppError::InvalidState(
            "Cashfree already has a beneficiary with this UPI handle, which it cannot be asked for by handle: \
             remove it in the Payouts dashboard, or register a bank account instead"
                .into(),
        ));
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("bank_account_number", account)
        .append_pair("bank_ifsc", ifsc)
        .finish();
    let path = format!("/beneficiary?{query}");
    let found = state.cashfree.call(Api::Payouts, Method::GET, &path, None, None, Repeat::Safe).await;
    let answer = found.map_err(crate::cashfree::call_error)?;
    let known: Beneficiary = payloads::read(answer)
        .map_err(|why| AppError::Unavailable(format!("Cashfree's beneficiary answer: {why}; try again shortly")))?;
    known.beneficiary_id.map(|id| id.0).filter(|id| !id.is_empty()).ok_or_else(|| {
        AppError::Unavailable("Cashfree said the beneficiary exists but did not name it; try again shortly".into())
    })
}

/// The freelancer's beneficiary, if registered.
pub async fn by_freelancer(db: &impl ConnectionTrait, freelancer_id: Uuid) -> AppResult<Option<beneficiary::Model>> {
    Ok(beneficiary::Entity::find().filter(beneficiary::Column::FreelancerId.eq(freelancer_id)).one(db).await?)
}

/// The beneficiary, if the caller may see it (staff, or the freelancer themselves).
pub async fn read(state: &AppState, who: Principal, freelancer_id: Uuid) -> AppResult<Option<beneficiary::Model>> {
    if who.role == Role::Freelancer && who.id != freelancer_id {
        return Ok(None);
    }
    by_freelancer(&state.db, freelancer_id).await
}
