-- Parallel composition over communities holds only while each person stays in one community. The
-- gateway installs a trigger calling this function on the privacy unit's table (named by policy, in
-- schema `commons`) whenever it applies a policy; the trigger fires only when the community column
-- of an existing row changes. A data owner who must move a person drops the trigger on purpose and
-- accepts the cost documented in docs/privacy.md.
CREATE OR REPLACE FUNCTION dpgate.refuse_community_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a person''s community in %.% cannot change: every charge to the old community and to the new one would apply to them (see docs/privacy.md, "Communities")',
    TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'check_violation';
END;
$$;
