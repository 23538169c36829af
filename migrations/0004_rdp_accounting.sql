ALTER TABLE "dpgate"."charges" ADD COLUMN "rdp_curve" jsonb;--> statement-breakpoint
ALTER TABLE "dpgate"."community_budgets" ADD COLUMN "rdp_order" numeric;--> statement-breakpoint
ALTER TABLE "dpgate"."community_budgets" ADD COLUMN "rdp_spent" jsonb;