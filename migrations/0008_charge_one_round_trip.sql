-- A charge in one round trip for every accounting mode (src/ledger/charge.ts). The gateway plans
-- each charge on a snapshot of the budget rows it read earlier (zcdp and rdp conversions need
-- floating-point functions that stay in the gateway); this statement locks the rows, and charges
-- only when every row that decided the plan still holds exactly what the plan was computed on.
-- Otherwise it writes nothing for that charge and reports it `stale`, with the rows as the batch
-- leaves them, and the gateway plans it again. `record_charges` (migration 0006) stays for gateways
-- of the previous release during a rolling upgrade: it takes the same row locks and checks the
-- same NUMERIC sums on them.

-- Whether a locked budget row holds what a charge was planned on. A basic charge does not depend
-- on the spend (its amounts are the request's ε and δ, checked below on NUMERIC), only on the
-- accounting mode; a zcdp or rdp charge depends on every total, every spent column, the filter's
-- order and the composed curve, compared as NUMERIC and jsonb values (equal numbers compare equal
-- whatever their decimal spelling).
CREATE FUNCTION dpgate.budget_holds(b dpgate.community_budgets, planned jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(b.accounting = planned->>'accounting' AND (b.accounting = 'basic' OR (
    b.epsilon_total = (planned->>'epsilon_total')::numeric AND b.delta_total = (planned->>'delta_total')::numeric
    AND b.epsilon_spent = (planned->>'epsilon_spent')::numeric AND b.delta_spent = (planned->>'delta_spent')::numeric
    AND b.rho_spent = (planned->>'rho_spent')::numeric
    AND b.rdp_order IS NOT DISTINCT FROM (planned->>'rdp_order')::numeric
    AND b.rdp_spent IS NOT DISTINCT FROM nullif(planned->'rdp_spent', 'null'::jsonb))), false)
$$;
--> statement-breakpoint
-- Commits a batch of charges in order, in the caller's transaction or (one call, autocommit) in
-- its own, with `lock_timeout` set for that transaction. Per charge, first what needs no lock:
-- a released answer to the same request from the same principal (`repeat`: nothing is charged and
-- its text is returned). Then, on the budget rows of the whole batch locked in community order:
-- a community without a budget row (`unknown_community`), a row under another policy version
-- (`superseded`, with the version in force), a row that no longer holds what the charge was
-- planned on (`stale`), a community the gateway found short on that very row (zcdp, rdp) or whose
-- ε, δ or ρ would pass its total on NUMERIC (`exhausted`, with the short rows), an idempotency key
-- already taken (`idempotency_key_taken`). Each of these writes nothing for that charge. Otherwise
-- the pending answer, the debit, one charge row per community and the audit entry (`charged`, with
-- the rows after it). Returns the outcomes, one per charge, and every row as the batch leaves it.
CREATE FUNCTION dpgate.commit_charges(batch jsonb, lock_timeout_ms integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
  n integer;
  repeats text[] := '{}';
  repeat_text text;
  outcomes jsonb := '[]';
  audits jsonb := '[]';
  everyone text[];
  missing text[];
  in_force text;
  stale boolean;
  short jsonb;
  after jsonb;
BEGIN
  PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
  FOR item, n IN SELECT value, ordinality FROM jsonb_array_elements(batch) WITH ORDINALITY LOOP
    IF item ? 'repeat' THEN
      SELECT coalesce(a.response_text, a.response::text) INTO repeat_text
        FROM dpgate.released_answers a
       WHERE a.principal_id = (item#>>'{repeat,principal_id}')::uuid
         AND a.query_fingerprint = item#>>'{repeat,query_fingerprint}' AND a.status = 'released'
       ORDER BY a.created_at DESC LIMIT 1;
      repeats[n] := repeat_text;
    END IF;
  END LOOP;
  SELECT coalesce(array_agg(DISTINCT c->>'community_id'), '{}') INTO everyone
    FROM jsonb_array_elements(batch) i, jsonb_array_elements(i->'charges') c;
  PERFORM 1 FROM dpgate.community_budgets WHERE community_id = ANY (everyone) ORDER BY community_id FOR UPDATE;

  FOR item, n IN SELECT value, ordinality FROM jsonb_array_elements(batch) WITH ORDINALITY LOOP
    IF repeats[n] IS NOT NULL THEN
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'repeat', 'response', repeats[n]));
      CONTINUE;
    END IF;
    -- Every check of the charge in one pass over its communities and their locked rows.
    SELECT coalesce(array_agg(c->>'community_id' ORDER BY c->>'community_id') FILTER (WHERE b.community_id IS NULL), '{}'),
           (array_agg(b.policy_version ORDER BY b.community_id) FILTER (WHERE b.policy_version <> item->>'policy_version'))[1],
           coalesce(bool_or(NOT dpgate.budget_holds(b, c->'planned_on')), false),
           coalesce(jsonb_agg(dpgate.budget_json(b) ORDER BY b.community_id) FILTER (
             WHERE (c->>'fits')::boolean IS NOT TRUE
                OR b.epsilon_spent + (c->>'epsilon')::numeric > b.epsilon_total
                OR b.delta_spent + (c->>'delta')::numeric > b.delta_total
                OR b.rho_spent + coalesce((c->>'rho')::numeric, 0) > b.rho_total), '[]')
      INTO missing, in_force, stale, short
      FROM jsonb_array_elements(item->'charges') c
      LEFT JOIN dpgate.community_budgets b ON b.community_id = c->>'community_id';
    IF cardinality(missing) > 0 THEN
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'unknown_community', 'communities', to_jsonb(missing)));
      CONTINUE;
    END IF;
    IF in_force IS NOT NULL THEN
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'superseded', 'version_in_force', in_force));
      CONTINUE;
    END IF;
    IF stale THEN
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'stale'));
      CONTINUE;
    END IF;
    IF jsonb_array_length(short) > 0 THEN
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'exhausted', 'budgets', short));
      CONTINUE;
    END IF;
    IF item ? 'answer' THEN
      INSERT INTO dpgate.released_answers
        (id, principal_id, idempotency_key, request_hash, query_fingerprint, policy_version, status)
      VALUES ((item#>>'{answer,id}')::uuid, (item#>>'{answer,principal_id}')::uuid,
              item#>>'{answer,idempotency_key}', item#>>'{answer,request_hash}',
              item#>>'{answer,query_fingerprint}', item#>>'{answer,policy_version}', 'pending')
      ON CONFLICT ON CONSTRAINT released_answers_idempotency DO NOTHING;
      IF NOT FOUND THEN
        outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'idempotency_key_taken'));
        CONTINUE;
      END IF;
    END IF;
    WITH debited AS (
      UPDATE dpgate.community_budgets b
         SET epsilon_spent = b.epsilon_spent + (c->>'epsilon')::numeric,
             delta_spent = b.delta_spent + (c->>'delta')::numeric,
             rho_spent = b.rho_spent + coalesce((c->>'rho')::numeric, 0),
             rdp_spent = coalesce(c->'rdp_spent', b.rdp_spent),
             updated_at = now()
        FROM jsonb_array_elements(item->'charges') c
       WHERE b.community_id = c->>'community_id'
      RETURNING dpgate.budget_json(b) AS budget)
    SELECT coalesce(jsonb_agg(budget), '[]') INTO after FROM debited;
    INSERT INTO dpgate.charges
      (community_id, request_id, principal_id, kind, subject_id, description, epsilon, delta, rho,
       rdp_curve, mechanism, policy_version)
    SELECT c->>'community_id', item->>'request_id', (item->>'principal_id')::uuid, item->>'kind',
           item->>'subject_id', item->>'description', (c->>'epsilon')::numeric, (c->>'delta')::numeric,
           (c->>'rho')::numeric, item->'rdp_curve', item->>'mechanism', item->>'policy_version'
      FROM jsonb_array_elements(item->'charges') c;
    IF item ? 'audit' THEN
      audits := audits || jsonb_build_array(item->'audit');
    END IF;
    outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'charged', 'budgets', after));
  END LOOP;
  IF jsonb_array_length(audits) > 0 THEN
    PERFORM dpgate.append_audit(audits);
  END IF;
  RETURN jsonb_build_object('outcomes', outcomes, 'budgets',
    (SELECT coalesce(jsonb_agg(dpgate.budget_json(b) ORDER BY b.community_id), '[]')
       FROM dpgate.community_budgets b WHERE b.community_id = ANY (everyone)));
END;
$$;
