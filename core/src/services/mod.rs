//! Services: the only place with business logic and SQL, in rooms by domain. Handlers and resolvers parse and call
//! one; each service that changes state checks the caller's role itself. A room imports only rooms below it, never
//! one above, and payments and payouts do not know each other:
//!
//! - `operations`: what admins and ops do by hand and what runs for them (interventions, identities, delivery of
//!   notifications, retention); over `payments`.
//! - `payments` (orders, refunds, disputes, settlements, Cashfree's Payment Gateway and its webhooks), `payouts`
//!   (requests, approval, transfers, beneficiaries, holds, risk, the Payouts account) and `reads` (lists and rows for
//!   the API, batched relations, reports); over the two below.
//! - `books` (the ledger, the journal, funds availability, wallets, reconciliation, the export) and `webhooks` (the
//!   pipeline every provider delivery goes through: recorded, authenticated, claimed once).
//! - `evidence`: the audit trail and the history's hash chains, checkpoints and erasures.
//!
//! Below them all, in the crate root: the kernel (`clock`, `idempotency`, `jobs`, `events`, `notifications`).

pub mod books;
pub mod evidence;
pub mod operations;
pub mod payments;
pub mod payouts;
pub mod reads;
pub mod webhooks;
