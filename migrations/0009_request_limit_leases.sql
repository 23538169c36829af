-- Request limits leased in blocks (src/http/shared-request-limiter.ts): a gateway holds, per key,
-- a few of the bucket's tokens and in-flight slots and admits from them in its own memory, so a busy
-- key costs a call here only when a block runs out, and none per request. One row per (key, holder)
-- says what a gateway holds; it expires like the per-request leases of 0007, so the holdings of a
-- killed gateway stop counting after the lease's lifetime. UNLOGGED for the same reasons as 0007.
CREATE UNLOGGED TABLE "dpgate"."request_holds" (
  "key" text NOT NULL,
  "holder" uuid NOT NULL,
  "tokens" integer NOT NULL,
  "slots" integer NOT NULL,
  "expires_at" timestamp with time zone NOT NULL,
  PRIMARY KEY ("key", "holder")
);
--> statement-breakpoint
-- A refusal marks the key contended for a second, and every holder told so gives back what it does
-- not use as soon as it stops using it, instead of keeping it for a while.
ALTER TABLE "dpgate"."request_buckets" ADD COLUMN "contended_until" timestamp with time zone;
--> statement-breakpoint
-- One call settles what a holder holds for a key, atomically across gateways (the upsert locks the
-- bucket row, as in admit_request): it reports `p_unused` tokens still unspent and keeps them, gives
-- back `p_give`, takes up to `p_take` more, and holds `p_slots` slots if that many are free (it
-- never loses a slot it holds by asking for more). Tokens the holder had and reports neither kept
-- nor given were spent.
-- Exactness: the bucket's tokens plus every holder's unspent tokens never exceed the burst (refill
-- stops at burst minus what is held), so admissions over any window never exceed burst + rate ×
-- window, what one bucket admits; the holders' slots never exceed p_max_in_flight. Tokens are taken
-- only when the holder gets a slot to spend them on (`p_slots_needed`), so a request turned away for
-- concurrency spends none.
CREATE FUNCTION "dpgate"."lease_requests"(
  p_key text,
  p_holder uuid,
  p_unused integer,
  p_give integer,
  p_take integer,
  p_slots integer,
  p_slots_needed integer,
  p_per_minute double precision,
  p_burst double precision,
  p_max_in_flight integer,
  p_lease_ms integer
) RETURNS TABLE (tokens integer, slots integer, retry_after_ms integer, contended boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '5s'
AS $$
DECLARE
  clock timestamptz := clock_timestamp();
  bucket_tokens double precision;
  bucket_at timestamptz;
  bucket_contended timestamptz;
  held_tokens integer := 0;
  held_slots integer := 0;
  others_tokens integer;
  others_slots integer;
  kept integer;
  given integer;
  taken integer := 0;
  new_slots integer;
  refused boolean;
BEGIN
  INSERT INTO dpgate.request_buckets AS b (key, tokens, refilled_at)
  VALUES (p_key, p_burst, clock)
  ON CONFLICT (key) DO UPDATE SET refilled_at = b.refilled_at
  RETURNING b.tokens, b.refilled_at, b.contended_until INTO bucket_tokens, bucket_at, bucket_contended;
  DELETE FROM dpgate.request_holds h WHERE h.key = p_key AND h.expires_at <= clock;
  SELECT h.tokens, h.slots INTO held_tokens, held_slots
  FROM dpgate.request_holds h WHERE h.key = p_key AND h.holder = p_holder;
  held_tokens := coalesce(held_tokens, 0);
  held_slots := coalesce(held_slots, 0);
  SELECT coalesce(sum(h.tokens), 0), coalesce(sum(h.slots), 0) INTO others_tokens, others_slots
  FROM dpgate.request_holds h WHERE h.key = p_key AND h.holder <> p_holder;
  -- A holder whose row expired reports tokens it no longer has: they are gone.
  kept := least(p_unused, held_tokens);
  given := least(p_give, held_tokens - kept);
  bucket_tokens := least(
    p_burst - others_tokens - kept,
    bucket_tokens + given + greatest(0, extract(epoch FROM clock - bucket_at)) * p_per_minute / 60);
  new_slots := CASE WHEN p_slots <= held_slots THEN p_slots
    ELSE greatest(held_slots, least(p_slots, p_max_in_flight - others_slots)) END;
  -- Checked before the bucket, so a request turned away for concurrency spends no token.
  IF new_slots >= p_slots_needed THEN
    taken := least(p_take, greatest(0, floor(bucket_tokens))::integer);
  END IF;
  bucket_tokens := bucket_tokens - taken;
  refused := new_slots < p_slots_needed OR (p_take > 0 AND kept + taken = 0);
  IF refused THEN bucket_contended := clock + interval '1 second'; END IF;
  UPDATE dpgate.request_buckets AS b
  SET tokens = bucket_tokens, refilled_at = greatest(bucket_at, clock), contended_until = bucket_contended
  WHERE b.key = p_key;
  IF kept + taken = 0 AND new_slots = 0 THEN
    DELETE FROM dpgate.request_holds h WHERE h.key = p_key AND h.holder = p_holder;
  ELSE
    INSERT INTO dpgate.request_holds AS h (key, holder, tokens, slots, expires_at)
    VALUES (p_key, p_holder, kept + taken, new_slots, clock + make_interval(secs => p_lease_ms / 1000.0))
    ON CONFLICT (key, holder) DO UPDATE
    SET tokens = excluded.tokens, slots = excluded.slots, expires_at = excluded.expires_at;
  END IF;
  RETURN QUERY SELECT kept + taken, new_slots,
    CASE WHEN kept + taken = 0 AND bucket_tokens < 1
      THEN ceil((1 - bucket_tokens) * 60000 / p_per_minute)::integer ELSE 0 END,
    coalesce(bucket_contended > clock, false);
END;
$$;
