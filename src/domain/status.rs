//! Which status changes are allowed, in one place.

use entity::status::{PaymentStatus, PayoutStatus};

/// Whether a payout request may move from `from` to `to`: only a pending request is ever decided.
pub fn payout_can_move(from: PayoutStatus, to: PayoutStatus) -> bool {
    use PayoutStatus::*;
    matches!((from, to), (Pending, Paid | Rejected | Cancelled | Failed))
}

/// Whether a payment may move from `from` to `to` when Cashfree reports it.
/// SUCCESS is final but for a refund; failures are transitional (the client may pay again).
pub fn payment_can_move(from: PaymentStatus, to: PaymentStatus) -> bool {
    use PaymentStatus::*;
    match (from, to) {
        (Success, Refunded) => true,
        (Success | Refunded, _) => false,
        (_, Refunded) => false,
        (a, b) => a != b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn only_pending_payouts_are_decided() {
        for from in PayoutStatus::iter() {
            for to in PayoutStatus::iter() {
                assert_eq!(payout_can_move(from, to), from == PayoutStatus::Pending && to != PayoutStatus::Pending);
            }
        }
    }

    #[test]
    fn a_late_failure_never_undoes_a_success() {
        use PaymentStatus::*;
        assert!(!payment_can_move(Success, Failed));
        assert!(!payment_can_move(Success, UserDropped));
        assert!(payment_can_move(Failed, Success));
        assert!(payment_can_move(UserDropped, Success));
        assert!(payment_can_move(Success, Refunded));
        assert!(!payment_can_move(Pending, Refunded));
        assert!(!payment_can_move(Refunded, Success));
    }
}
