-- The ledger's writes as server-side functions, so a charge costs one round trip while its budget
-- rows are locked (src/ledger/charge.ts) and an audit append costs one (src/ledger/audit-log.ts).

-- A budget row as JSON with its NUMERIC columns as text: budget arithmetic never passes a float.
CREATE OR REPLACE FUNCTION dpgate.budget_json(b dpgate.community_budgets) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'community_id', b.community_id, 'accounting', b.accounting,
    'epsilon_total', b.epsilon_total::text, 'delta_total', b.delta_total::text,
    'epsilon_spent', b.epsilon_spent::text, 'delta_spent', b.delta_spent::text,
    'rho_spent', b.rho_spent::text, 'rho_total', b.rho_total::text, 'rdp_order', b.rdp_order::text,
    'rdp_spent', b.rdp_spent, 'policy_version', b.policy_version)
$$;
--> statement-breakpoint
-- Appends entries to the hash chain in order. Each entry carries its canonical content (built by
-- the gateway from the same fields); its hash is sha256(previous hash, newline, content), the
-- formula `dpgate audit verify` recomputes. The advisory lock serialises appends from every
-- gateway; in PL/pgSQL each statement takes a fresh snapshot, so the head is read after the lock.
CREATE OR REPLACE FUNCTION dpgate.append_audit(entries jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  prev text;
  entry jsonb;
  next_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(7302114003);
  SELECT hash INTO prev FROM dpgate.audit_log ORDER BY id DESC LIMIT 1;
  prev := coalesce(prev, repeat('0', 64));
  FOR entry IN SELECT value FROM jsonb_array_elements(entries) LOOP
    next_hash := encode(sha256(convert_to(prev || E'\n' || (entry->>'content'), 'UTF8')), 'hex');
    INSERT INTO dpgate.audit_log (at, actor, action, request_id, details, prev_hash, hash)
    VALUES ((entry->>'at')::timestamptz, entry->>'actor', entry->>'action', entry->>'request_id',
            entry->'details', prev, next_hash);
    prev := next_hash;
  END LOOP;
END;
$$;
--> statement-breakpoint
-- Records planned charges, in order, on budget rows the caller's transaction has locked. For each:
-- the exact NUMERIC check of ε and δ (the whole check for basic budgets; zcdp and rdp budgets were
-- also checked by the gateway on the locked rows), then the pending answer (a taken idempotency key
-- refuses the charge before anything is written), then the debit, the charge rows and the audit
-- entry. A refused charge writes nothing; when it was planned on a zcdp or rdp budget, the charges
-- after it on that budget were planned on a state that will not exist, so they come back as
-- `replan` with nothing written. Returns one outcome per charge.
CREATE OR REPLACE FUNCTION dpgate.record_charges(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
  outcomes jsonb := '[]';
  audits jsonb := '[]';
  stale text[] := '{}';
  scope text[];
  short jsonb;
  after jsonb;
BEGIN
  FOR item IN SELECT value FROM jsonb_array_elements(batch) LOOP
    SELECT coalesce(array_agg(p->>'community_id'), '{}') INTO scope FROM jsonb_array_elements(item->'charges') p;
    IF scope && stale THEN
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'replan'));
      CONTINUE;
    END IF;
    SELECT coalesce(jsonb_agg(dpgate.budget_json(b)), '[]') INTO short
      FROM dpgate.community_budgets b JOIN jsonb_array_elements(item->'charges') p
        ON b.community_id = p->>'community_id'
     WHERE b.epsilon_spent + (p->>'epsilon')::numeric > b.epsilon_total
        OR b.delta_spent + (p->>'delta')::numeric > b.delta_total;
    IF jsonb_array_length(short) > 0 THEN
      outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'exhausted', 'budgets', short));
      stale := stale || ARRAY(SELECT community_id FROM dpgate.community_budgets
                               WHERE community_id = ANY (scope) AND accounting <> 'basic');
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
        stale := stale || ARRAY(SELECT community_id FROM dpgate.community_budgets
                                 WHERE community_id = ANY (scope) AND accounting <> 'basic');
        CONTINUE;
      END IF;
    END IF;
    WITH debited AS (
      UPDATE dpgate.community_budgets b
         SET epsilon_spent = b.epsilon_spent + (p->>'epsilon')::numeric,
             delta_spent = b.delta_spent + (p->>'delta')::numeric,
             rho_spent = b.rho_spent + coalesce((p->>'rho')::numeric, 0),
             rdp_spent = coalesce(p->'rdp_spent', b.rdp_spent),
             updated_at = now()
        FROM jsonb_array_elements(item->'charges') p
       WHERE b.community_id = p->>'community_id'
      RETURNING dpgate.budget_json(b) AS budget)
    SELECT coalesce(jsonb_agg(budget), '[]') INTO after FROM debited;
    INSERT INTO dpgate.charges
      (community_id, request_id, principal_id, kind, subject_id, description, epsilon, delta, rho,
       rdp_curve, mechanism, policy_version)
    SELECT p->>'community_id', item->>'request_id', (item->>'principal_id')::uuid, item->>'kind',
           item->>'subject_id', item->>'description', (p->>'epsilon')::numeric, (p->>'delta')::numeric,
           (p->>'rho')::numeric, item->'rdp_curve', item->>'mechanism', item->>'policy_version'
      FROM jsonb_array_elements(item->'charges') p;
    IF item ? 'audit' THEN
      audits := audits || jsonb_build_array(item->'audit');
    END IF;
    outcomes := outcomes || jsonb_build_array(jsonb_build_object('status', 'charged', 'budgets', after));
  END LOOP;
  IF jsonb_array_length(audits) > 0 THEN
    PERFORM dpgate.append_audit(audits);
  END IF;
  RETURN outcomes;
END;
$$;
