//! Any record by its global id, and who you are.

use super::*;

/// Any record by its global id, and who you are.
#[derive(Default)]
pub struct RootQuery;

#[Object]
impl RootQuery {
    /// Any record by its global id (`globalId`), or null if it does not exist or is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn node(&self, ctx: &Context<'_>, id: async_graphql::ID) -> Result<Option<Node>> {
        Ok(crate::graphql::types::node_fetch(&state(ctx).reads, principal(ctx)?, &id).await?)
    }

    /// Records by global ids, in the order asked (null where one does not exist or is not yours); at most 100.
    #[graphql(guard = "RoleGuard(ANYONE)", complexity = "ids.len() * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<async_graphql::ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() as u64 > reads::MAX_PAGE {
            return Err(crate::error::AppError::BadInput(format!("at most {} ids at once", reads::MAX_PAGE)).into());
        }
        let (db, who) = (&state(ctx).reads, principal(ctx)?);
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            found.push(crate::graphql::types::node_fetch(db, who, id).await?);
        }
        Ok(found)
    }

    /// Who you are.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn me(&self, ctx: &Context<'_>) -> Result<Viewer> {
        Ok(Viewer(principal(ctx)?))
    }
}
