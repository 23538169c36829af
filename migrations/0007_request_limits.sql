-- Per-key request limits shared by every gateway on this database (DPGATE_RATE_LIMIT_STORE=postgres).
-- UNLOGGED: the state is only a few seconds of bookkeeping, so it writes no WAL and a crash of the
-- server empties it (every key starts with a full bucket and nothing in flight), which is harmless.
-- A request in progress holds a lease that expires: a gateway killed mid-request leaks nothing past
-- the lease's lifetime.
CREATE UNLOGGED TABLE "dpgate"."request_buckets" (
  "key" text PRIMARY KEY,
  "tokens" double precision NOT NULL,
  "refilled_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNLOGGED TABLE "dpgate"."request_leases" (
  "id" uuid PRIMARY KEY,
  "key" text NOT NULL,
  "expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "request_leases_key" ON "dpgate"."request_leases" ("key", "expires_at");
--> statement-breakpoint
-- One call admits or refuses a request, atomically across gateways: the upsert locks the key's
-- bucket row, so the lease count read after it sees every lease committed by an earlier holder
-- (a volatile plpgsql function takes a fresh snapshot per statement). The database's clock is the
-- only clock, so gateways with skewed clocks still agree. SECURITY DEFINER: the gateway's role needs
-- no DELETE on dpgate's tables (leases are removed here and in release_requests only).
CREATE FUNCTION "dpgate"."admit_request"(
  p_key text,
  p_lease uuid,
  p_per_minute double precision,
  p_burst double precision,
  p_max_in_flight integer,
  p_lease_ms integer
) RETURNS TABLE (admitted boolean, reason text, retry_after_seconds integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '5s'
AS $$
DECLARE
  clock timestamptz := clock_timestamp();
  bucket_tokens double precision;
  in_flight integer;
BEGIN
  INSERT INTO dpgate.request_buckets AS b (key, tokens, refilled_at)
  VALUES (p_key, p_burst, clock)
  ON CONFLICT (key) DO UPDATE SET
    tokens = LEAST(p_burst, b.tokens + GREATEST(0, extract(epoch FROM clock - b.refilled_at)) * p_per_minute / 60),
    refilled_at = GREATEST(b.refilled_at, clock)
  RETURNING b.tokens INTO bucket_tokens;
  DELETE FROM dpgate.request_leases WHERE key = p_key AND expires_at <= clock;
  SELECT count(*) INTO in_flight FROM dpgate.request_leases WHERE key = p_key;
  -- Checked before the bucket, so a request turned away for concurrency spends no token.
  IF in_flight >= p_max_in_flight THEN
    RETURN QUERY SELECT false, 'in_flight'::text, 1;
    RETURN;
  END IF;
  IF bucket_tokens < 1 THEN
    RETURN QUERY SELECT false, 'rate'::text, GREATEST(1, ceil((1 - bucket_tokens) * 60 / p_per_minute))::integer;
    RETURN;
  END IF;
  UPDATE dpgate.request_buckets SET tokens = bucket_tokens - 1 WHERE key = p_key;
  INSERT INTO dpgate.request_leases (id, key, expires_at)
  VALUES (p_lease, p_key, clock + make_interval(secs => p_lease_ms / 1000.0));
  RETURN QUERY SELECT true, NULL::text, 0;
END;
$$;
--> statement-breakpoint
-- Gives leases back, many at once: a gateway sends the requests finished since its last call.
CREATE FUNCTION "dpgate"."release_requests"(p_leases uuid[]) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ DELETE FROM dpgate.request_leases WHERE id = ANY (p_leases) $$;
