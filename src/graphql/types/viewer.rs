//! `Viewer`: who the caller is.

use super::{loader_error, Role, Wallet};
use crate::auth::Principal;
use crate::graphql::error::Result;
use crate::graphql::loaders::{Db, WalletOfFreelancer};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object};
use uuid::Uuid;

/// The caller, as their token says.
pub struct Viewer(pub Principal);

#[Object]
impl Viewer {
    /// The token's `sub`.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The caller's own wallet, if they are a freelancer who has one.
    async fn wallet(&self, ctx: &Context<'_>) -> Result<Option<Wallet>> {
        if self.0.role != entity::status::Role::Freelancer {
            return Ok(None);
        }
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(WalletOfFreelancer(self.0.id)).await.map_err(loader_error)?.map(Wallet::from))
    }
}
