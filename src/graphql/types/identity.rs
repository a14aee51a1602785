//! `IdentityLink`: a subject of the identity provider and the freelancer's wallet it acts for.

use crate::graphql::scalars::DateTime;
use async_graphql::SimpleObject;
use entity::identity_link as link;
use uuid::Uuid;

/// A subject of the identity provider linked to a freelancer's wallet by an admin: that provider's tokens naming
/// the subject act for the wallet.
#[derive(SimpleObject)]
pub struct IdentityLink {
    /// The provider's issuer identifier.
    pub issuer: String,
    /// The subject as the provider's tokens carry it.
    pub subject: String,
    pub freelancer_id: Uuid,
    /// The admin who linked it.
    pub linked_by: Option<Uuid>,
    pub linked_at: DateTime,
}

impl From<link::Model> for IdentityLink {
    fn from(l: link::Model) -> Self {
        IdentityLink {
            issuer: l.issuer,
            subject: l.subject,
            freelancer_id: l.freelancer_id,
            linked_by: l.linked_by,
            linked_at: DateTime(l.linked_at),
        }
    }
}
