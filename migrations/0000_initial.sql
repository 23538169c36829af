CREATE SCHEMA "dpgate";
--> statement-breakpoint
CREATE TABLE "dpgate"."api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"community_id" text,
	"key_prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "api_key_role" CHECK ("dpgate"."api_keys"."role" IN ('analyst', 'contributor', 'council')),
	CONSTRAINT "api_key_contributor_community" CHECK (("dpgate"."api_keys"."role" = 'contributor') = ("dpgate"."api_keys"."community_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "dpgate"."audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "dpgate"."audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"request_id" text,
	"details" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_log_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "dpgate"."charges" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"community_id" text NOT NULL,
	"request_id" text NOT NULL,
	"principal_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"description" text NOT NULL,
	"epsilon" numeric NOT NULL,
	"delta" numeric NOT NULL,
	"rho" numeric,
	"mechanism" text NOT NULL,
	"policy_version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "charges_request_community" UNIQUE("request_id","community_id"),
	CONSTRAINT "charge_non_negative" CHECK ("dpgate"."charges"."epsilon" >= 0 AND "dpgate"."charges"."delta" >= 0 AND ("dpgate"."charges"."rho" IS NULL OR "dpgate"."charges"."rho" >= 0))
);
--> statement-breakpoint
CREATE TABLE "dpgate"."community_budgets" (
	"community_id" text PRIMARY KEY NOT NULL,
	"accounting" text NOT NULL,
	"epsilon_total" numeric NOT NULL,
	"delta_total" numeric NOT NULL,
	"epsilon_spent" numeric DEFAULT '0' NOT NULL,
	"delta_spent" numeric DEFAULT '0' NOT NULL,
	"rho_spent" numeric DEFAULT '0' NOT NULL,
	"rho_total" numeric,
	"policy_version" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_spent_non_negative" CHECK ("dpgate"."community_budgets"."epsilon_spent" >= 0 AND "dpgate"."community_budgets"."delta_spent" >= 0 AND "dpgate"."community_budgets"."rho_spent" >= 0),
	CONSTRAINT "budget_epsilon_not_overspent" CHECK ("dpgate"."community_budgets"."epsilon_spent" <= "dpgate"."community_budgets"."epsilon_total"),
	CONSTRAINT "budget_delta_not_overspent" CHECK ("dpgate"."community_budgets"."delta_spent" <= "dpgate"."community_budgets"."delta_total"),
	CONSTRAINT "budget_rho_not_overspent" CHECK ("dpgate"."community_budgets"."rho_total" IS NULL OR "dpgate"."community_budgets"."rho_spent" <= "dpgate"."community_budgets"."rho_total")
);
--> statement-breakpoint
CREATE TABLE "dpgate"."instance_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dpgate"."models" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_id" uuid,
	"principal_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"weights" jsonb NOT NULL,
	"card" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dpgate"."policy_versions" (
	"version" text PRIMARY KEY NOT NULL,
	"files" jsonb NOT NULL,
	"policy" jsonb NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dpgate"."released_answers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"principal_id" uuid NOT NULL,
	"idempotency_key" text,
	"request_hash" text NOT NULL,
	"query_fingerprint" text NOT NULL,
	"policy_version" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"released_at" timestamp with time zone,
	CONSTRAINT "released_answers_idempotency" UNIQUE("principal_id","idempotency_key"),
	CONSTRAINT "released_answer_has_response" CHECK (("dpgate"."released_answers"."status" = 'released') = ("dpgate"."released_answers"."response" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "dpgate"."training_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"principal_id" uuid NOT NULL,
	"status" text NOT NULL,
	"spec" jsonb NOT NULL,
	"cost" jsonb,
	"progress" jsonb,
	"error" text,
	"model_id" uuid,
	"policy_version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "dpgate"."charges" ADD CONSTRAINT "charges_community_id_community_budgets_community_id_fk" FOREIGN KEY ("community_id") REFERENCES "dpgate"."community_budgets"("community_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dpgate"."models" ADD CONSTRAINT "models_job_id_training_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "dpgate"."training_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "charges_community_time" ON "dpgate"."charges" USING btree ("community_id","created_at");--> statement-breakpoint
CREATE INDEX "released_answers_fingerprint" ON "dpgate"."released_answers" USING btree ("principal_id","query_fingerprint");