-- Work for the write benchmarks, added by bench/run.py after the reads (the reads see the data set exactly as
-- generate-postgres.sql made it): :n more pending payout requests for approvals and :n more pending payments for
-- webhook ingest, spread over the wallets (bench/run.py copies them to the SQLite file after its reads, by
-- these notes and order ids; the order ids carry the transaction's id, so a run on a reused data set adds more).
-- Every wallet holds far more than its share of the new payouts, so no approval meets the reserve.
-- Run with `psql -v n=60000 -f bench/generate-write-work.sql`.
BEGIN;

CREATE TEMP TABLE w AS
SELECT row_number() OVER (ORDER BY created_at, id) - 1 AS n, id, freelancer_id FROM freelancer_wallets;

INSERT INTO payout_requests (id, wallet_id, freelancer_id, amount, currency, status, note, requested_by, created_at,
                             updated_at)
SELECT gen_random_uuid(), w.id, w.freelancer_id, 10000 + (g % 90) * 1000, 'INR', 'pending', 'Withdrawal (write benchmark) ' || g,
       w.freelancer_id, now() - interval '1 hour' + g * interval '1 millisecond',
       now() - interval '1 hour' + g * interval '1 millisecond'
FROM generate_series(1, :n) AS g JOIN w ON w.n = g % (SELECT count(*) FROM w);

INSERT INTO payments (id, order_id, freelancer_id, client_id, purpose, amount, currency, status, created_at,
                      updated_at, refunded_amount)
SELECT gen_random_uuid(), 'bench_more_' || txid_current() || '_' || g, w.freelancer_id, 'client_' || (g % 2000), 'Invoice ' || g,
       50000 + (g::bigint * 7919) % 4950000, 'INR', 'pending', now() - interval '1 hour', now() - interval '1 hour', 0
FROM generate_series(1, :n) AS g JOIN w ON w.n = g % (SELECT count(*) FROM w);

COMMIT;
VACUUM (ANALYZE) payout_requests, payments;
