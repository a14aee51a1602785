//! The ordered list of schema migrations, run at server start and by `paydesk migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;

/// paydesk's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261124_000001_initial::Migration)]
    }
}
