//! Which status changes are allowed, in one place.

use entity::status::{PaymentStatus, PayoutStatus};

/// A stored status as the API names it (`paid` -> `PAID`), for messages people read next to API values.
pub fn api_name<E: sea_orm::ActiveEnum<Value = String>>(status: &E) -> String {
    status.to_value().to_ascii_uppercase()
}

/// Whether a payout request may move from `from` to `to`: an admin decides a pending request (paid at once in
/// manual mode, PROCESSING while a Cashfree transfer runs, rejected, or cancelled); a transfer ends PAID or FAILED;
/// the bank can reverse a transfer, paid or still reported as under way. The services' conditional updates move a
/// payout only along these (`services::payouts::decide`, `services::payouts::transfers::settle_once` check it in debug
/// builds, so every test that moves a payout checks its move).
pub fn payout_can_move(from: PayoutStatus, to: PayoutStatus) -> bool {
    use PayoutStatus::*;
    matches!(
        (from, to),
        (Pending, Processing | Paid | Rejected | Cancelled) | (Processing, Paid | Failed | Reversed) | (Paid, Reversed)
    )
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
    fn payouts_move_forward_only() {
        use PayoutStatus::*;
        for from in PayoutStatus::iter() {
            for to in PayoutStatus::iter() {
                let expected = match from {
                    Pending => matches!(to, Processing | Paid | Rejected | Cancelled),
                    Processing => matches!(to, Paid | Failed | Reversed),
                    Paid => to == Reversed,
                    Rejected | Failed | Cancelled | Reversed => false,
                };
                assert_eq!(payout_can_move(from, to), expected, "{from:?} -> {to:?}");
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
