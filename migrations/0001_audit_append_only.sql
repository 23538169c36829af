-- The audit log is append-only: an UPDATE or DELETE raises, whoever runs it. (A superuser can still
-- disable the trigger; `dpgate audit verify` then finds the edit through the hash chain.)
CREATE OR REPLACE FUNCTION dpgate.refuse_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON dpgate.audit_log
  FOR EACH ROW EXECUTE FUNCTION dpgate.refuse_append_only_change();
--> statement-breakpoint
-- Charges are append-only as well: the ledger is the record contributors read.
CREATE TRIGGER charges_append_only
  BEFORE UPDATE OR DELETE ON dpgate.charges
  FOR EACH ROW EXECUTE FUNCTION dpgate.refuse_append_only_change();
