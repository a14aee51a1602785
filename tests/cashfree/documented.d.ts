// The webhooks for which the SDKs have no model of their own, built from the SDKs' models, and the few fields
// Cashfree's documentation pages show that the generated models lack. Each difference names its page; nothing here
// may loosen a field the SDK does describe.

import type { CreateTransferResponse } from "cashfree-payout";
import type {
  CustomerDetailsInDisputesEntity,
  DisputesEntity,
  OrderDetailsInDisputesEntity,
  RefundEntity,
  SettlementEntity,
} from "cashfree-pg";

/**
 * A dispute webhook (`DISPUTE_CREATED`, `DISPUTE_UPDATED`, `DISPUTE_CLOSED`): `data.dispute` is the SDK's
 * `DisputesEntity` and `data.order_details` its `OrderDetailsInDisputesEntity`, except, as the "Dispute Webhooks"
 * page's samples show, `dispute_id` is a string there (a number in `DisputesEntity`), the dispute carries
 * `dispute_action_on`, and `order_details` sits beside the dispute (the entity has it inside, which paydesk also
 * reads).
 */
export interface DisputeWebhook {
  type: string;
  event_time: string;
  data: {
    dispute: Omit<DisputesEntity, "dispute_id"> & { dispute_id: string; dispute_action_on?: string };
    order_details?: OrderDetailsInDisputesEntity;
    customer_details?: CustomerDetailsInDisputesEntity;
  };
}

/**
 * A transfer as Standard Transfer V2 and Get Transfer Status V2 answer it and as Payouts V2 webhooks carry it: the
 * SDK's `CreateTransferResponse`, plus `status_code` and `status_description`, which the "Webhooks Version V2" page
 * (Payouts) lists for every transfer event and the generated model lacks.
 */
export type Transfer = CreateTransferResponse & { status_code?: string; status_description?: string };

/** A Payouts V2 transfer webhook (`TRANSFER_SUCCESS`, `TRANSFER_ACKNOWLEDGED`, `TRANSFER_FAILED`, …). */
export interface TransferWebhook {
  type: string;
  event_time: string;
  data: Transfer;
}

/**
 * A settlement webhook (`SETTLEMENT_SUCCESS`, …): `data.settlement` is the SDK's `SettlementEntity` plus what the
 * "Settlement Webhooks" page (version 2025-01-01) shows it carrying and the model lacks: the settlement's `utr` (a
 * number in the page's sample), `amount_settled`, `payment_amount`, the window `payment_from`/`payment_till` (India
 * time without a zone), `settled_on`, `settlement_initiated_on`, `settlement_type`, `status`, `adjustment`, `reason`,
 * `remarks`, and an instant settlement's `settlement_charge` and `settlement_tax`.
 */
export interface SettlementWebhook {
  type: string;
  event_time: string;
  data: {
    settlement: SettlementEntity & {
      utr?: number;
      amount_settled?: number;
      payment_amount?: number;
      payment_from?: string;
      payment_till?: string;
      settled_on?: string;
      settlement_initiated_on?: string;
      settlement_type?: string;
      status?: string;
      adjustment?: number;
      reason?: string;
      remarks?: string;
      settlement_charge?: number;
      settlement_tax?: number;
    };
  };
}

/**
 * A refund webhook as the "Refund Webhooks" page's 2025-01-01 sample has it: the SDK's `RefundWebhook`, except that
 * `cf_refund_id` and `cf_payment_id` are numbers there (strings in `RefundEntity`) and `entity` is "Refund" (the
 * SDK's enum says "refund"). Only Cashfree's samples are held to this; the double's refund webhooks are held to the
 * SDK's `RefundWebhook`.
 */
export interface RefundWebhookAsDocumented {
  type: string;
  event_time: string;
  data: {
    refund: Omit<RefundEntity, "cf_refund_id" | "cf_payment_id" | "entity"> & {
      cf_refund_id: number;
      cf_payment_id: number;
      entity: "Refund";
    };
  };
}
