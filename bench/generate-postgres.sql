-- The benchmark data set, on a database `paydesk migrate` has just created (PostgreSQL):
-- 500 wallets, 200,000 payments (150,000 paid, 40,000 pending), 50,000 payout requests (25,000 paid, 20,000 pending, 5,000
-- rejected) and 300,000 ledger rows (a credit per paid payment, a debit per paid payout, 125,000 adjustments),
-- spread over 60 days. Balances equal their ledgers and no debit takes a wallet below the reserve, so
-- `paydesk reconcile` passes on it. Deterministic apart from ids. Run with `psql -v scale=1`: `scale` divides every
-- count (100 makes the smoke run's data set: 5 wallets, 2,000 payments, 500 payouts), over the same 60 days.
BEGIN;

CREATE TEMP TABLE w AS
SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS freelancer_id FROM generate_series(0, 500 / :scale - 1) AS n;

INSERT INTO freelancer_wallets (id, freelancer_id, currency, balance, created_at, updated_at)
SELECT id, freelancer_id, 'INR', 0, now() - interval '61 days', now() FROM w;

-- Payments: every fourth is not paid (a fifth of those failed, the rest still pending: the webhook benchmark pays
-- them), the others paid, at 10% fee.
INSERT INTO payments (id, order_id, freelancer_id, client_id, purpose, amount, currency, status, platform_fee,
                      net_amount, cf_payment_id, payment_method, bank_reference, paid_at, created_at, updated_at,
                      refunded_amount)
SELECT gen_random_uuid(), 'bench_' || g, w.freelancer_id, 'client_' || (g % 2000), 'Invoice ' || g, a.amount, 'INR',
       CASE WHEN (g / 7) % 4 = 0 THEN (CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'pending' END) ELSE 'success' END,
       CASE WHEN (g / 7) % 4 <> 0 THEN a.amount / 10 END,
       CASE WHEN (g / 7) % 4 <> 0 THEN a.amount - a.amount / 10 END,
       CASE WHEN (g / 7) % 4 <> 0 THEN (5000000000 + g)::text END, CASE WHEN (g / 7) % 4 <> 0 THEN 'upi' END,
       CASE WHEN (g / 7) % 4 <> 0 THEN 'UTR' || g END,
       CASE WHEN (g / 7) % 4 <> 0 THEN t.at + interval '2 minutes' END, t.at, t.at, 0
FROM generate_series(1, 200000 / :scale) AS g
JOIN w ON w.n = g % (500 / :scale)
CROSS JOIN LATERAL (SELECT (50000 + (g::bigint * 7919) % 4950000) AS amount) AS a
CROSS JOIN LATERAL (SELECT now() - interval '60 days' + (g * :scale * interval '25 seconds') AS at) AS t;

INSERT INTO wallet_transactions (id, wallet_id, kind, amount, balance_after, reference, payment_id, description,
                                 created_at)
SELECT gen_random_uuid(), w.id, 'payment_credit', p.net_amount, 0, 'payment:' || p.id, p.id,
       'payment received, net of platform fee', p.paid_at
FROM payments p JOIN w ON w.freelancer_id = p.freelancer_id WHERE p.status = 'success';

-- Adjustments: small credits.
INSERT INTO wallet_transactions (id, wallet_id, kind, amount, balance_after, reference, description, created_at)
SELECT gen_random_uuid(), w.id, 'adjustment', 100 + (g % 900), 0, 'adjustment:bench:' || g, 'bench adjustment',
       now() - interval '60 days' + (g * :scale * interval '40 seconds')
FROM generate_series(1, 125000 / :scale) AS g JOIN w ON w.n = g % (500 / :scale);

-- Payouts in the last 25 days, when every wallet holds far more than they ask.
INSERT INTO payout_requests (id, wallet_id, freelancer_id, amount, currency, status, note, requested_by, decided_by,
                             decided_at, decision_note, created_at, updated_at)
SELECT gen_random_uuid(), w.id, w.freelancer_id, 10000 + (g % 90) * 1000, 'INR',
       CASE WHEN g <= 25000 / :scale THEN 'paid' WHEN g <= 45000 / :scale THEN 'pending' ELSE 'rejected' END,
       'Withdrawal ' || g, w.freelancer_id,
       CASE WHEN g <= 25000 / :scale OR g > 45000 / :scale THEN w.freelancer_id END,
       CASE WHEN g <= 25000 / :scale OR g > 45000 / :scale THEN t.at + interval '1 hour' END,
       CASE WHEN g > 45000 / :scale THEN 'Bank details do not match' END, t.at, t.at
FROM generate_series(1, 50000 / :scale) AS g
JOIN w ON w.n = g % (500 / :scale)
CROSS JOIN LATERAL (SELECT now() - interval '25 days' + (g * :scale * interval '40 seconds') AS at) AS t;

INSERT INTO wallet_transactions (id, wallet_id, kind, amount, balance_after, reference, payout_request_id,
                                 description, created_at)
SELECT gen_random_uuid(), p.wallet_id, 'payout_debit', -p.amount, 0, 'payout:' || p.id, p.id, 'payout approved',
       p.decided_at
FROM payout_requests p WHERE p.status = 'paid';

-- Running balances, then each wallet's balance is its ledger's sum.
UPDATE wallet_transactions t SET balance_after = r.running
FROM (SELECT id, SUM(amount) OVER (PARTITION BY wallet_id ORDER BY created_at, id) AS running
      FROM wallet_transactions) AS r
WHERE r.id = t.id;
UPDATE freelancer_wallets f SET balance = s.total
FROM (SELECT wallet_id, SUM(amount) AS total FROM wallet_transactions GROUP BY wallet_id) AS s
WHERE s.wallet_id = f.id;

COMMIT;
-- The running balances above rewrote every ledger row: vacuumed here, as autovacuum would in production (it may be
-- off where the suite runs), so the reads do not wade through 300,000 dead row versions.
VACUUM (ANALYZE);
