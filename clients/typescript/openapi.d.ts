// Generated from the gateway's OpenAPI document by `npm run client:types`. Do not edit.
export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness and database reachability */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who this API key belongs to, its role, and the budgets it can reach with what they have left */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The policy in force, the last refused policy set, and every applied version */
        get: operations["getPolicy"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/validate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Check a candidate policy set against the database and the ledger, without applying it */
        post: operations["validatePolicy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/reload": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Re-read the policy directory and apply it if it passes every check */
        post: operations["reloadPolicy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every policy version that took effect in this database, newest first */
        get: operations["listPolicyVersions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Walk the audit log’s hash chain and report the first broken entry, if any */
        get: operations["verifyAuditLog"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/communities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every community with its budget, spend and what is left */
        get: operations["listCommunities"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/communities/{id}/ledger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every charge made to a community: when, by whom, for what, at what cost */
        get: operations["getCommunityLedger"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/communities/{id}/charges/{charge_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One charge to a community: what was released and the figures its cost came from */
        get: operations["getCharge"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/communities/{id}/spend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A community’s cumulative spend after each charge, oldest first (at most the newest 5000) */
        get: operations["getCommunitySpend"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/catalog": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tables, columns, bounds and limits your role may query (no data) */
        get: operations["getCatalog"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/queries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your own queries, newest first */
        get: operations["listQueries"];
        put?: never;
        /** Ask an aggregate SQL query; get noisy rows, their accuracy and the privacy cost charged */
        post: operations["createQuery"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/queries/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A released answer, as it was released */
        get: operations["getQuery"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/training-jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your training jobs (a council sees all), newest first, paginated */
        get: operations["listTrainingJobs"];
        put?: never;
        /** Train a model with DP-SGD on a governed table; the full cost is charged before training starts. With `dry_run`, only price it. */
        post: operations["startTrainingJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your released models (a council sees all), newest first, paginated; cards without weights */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/training-jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A job: status, public progress, cost, and its model when done */
        get: operations["getTrainingJob"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/training-jobs/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server-sent events: `progress` (step, epoch, ε spent by the job’s accountant, planned persons per step) and `status`, until the job ends */
        get: operations["streamTrainingJobEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/training-jobs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop a job in any state (its charge stands); an ended job is left as it is */
        post: operations["cancelTrainingJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A released model: weights and model card (features and bounds, label, ε, δ, σ, q, steps, clip norm, accountant) */
        get: operations["getModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}/predict": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Predictions for rows you send (post-processing of the released model: free) */
        post: operations["predictWithModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every API key, newest first (never a secret) */
        get: operations["listKeys"];
        put?: never;
        /** Make a key; its secret is in this response only */
        post: operations["createKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke a key; the next request made with it is refused */
        post: operations["revokeKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A new key with the same name, role and community; the old one revoked in the same step */
        post: operations["rotateKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/federation": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The federation section of the policy in force, with node fingerprints and reachability */
        get: operations["getFederation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Health: {
            /** @enum {string} */
            status: "ok" | "degraded";
            /** @enum {string} */
            database: "ok" | "unreachable";
            /** @enum {string} */
            database_kind: "postgres" | "pglite";
            policy_version: string;
            /** @description The last policy set that was refused, while the previous one keeps serving. */
            policy_refused: {
                at: string;
                issues: string[];
            } | null;
        };
        Principal: {
            id: string;
            name: string;
            /** @enum {string} */
            role: "analyst" | "contributor" | "council";
            community_id: string | null;
            communities: {
                id: string;
                accounting: string;
                budget: {
                    epsilon: number;
                    delta: number;
                };
                remaining: components["schemas"]["Remaining"];
            }[];
            policy_version: string;
        };
        Remaining: {
            epsilon: number;
            delta: number;
            /** @description Exact decimal strings, where what is left is a difference of ledger decimals: ε under basic, ρ under zcdp, δ under basic and zcdp. A zcdp or rdp community’s ε left is a conversion, so null. */
            exact?: {
                epsilon: string | null;
                delta: string | null;
                rho?: string | null;
            };
        };
        Problem: {
            type: string;
            title: string;
            status: number;
            /** @example unauthorized */
            code: string;
            detail: string;
            request_id?: string;
        };
        PolicyState: {
            version: string;
            policy: {
                [key: string]: unknown;
            };
            files: {
                name: string;
                text: string;
            }[];
            last_refusal: {
                at: string;
                issues: string[];
            } | null;
            /** @description Every policy version that took effect in this database, newest first. */
            versions: {
                version: string;
                applied_at: string;
            }[];
        };
        PolicyValidation: {
            valid: boolean;
            version?: string;
            issues: components["schemas"]["PolicyIssue"][];
            effect: components["schemas"]["PolicyEffect"];
        };
        PolicyIssue: {
            file?: string;
            line?: number;
            column?: number;
            /** @example tables.people.columns.age.bounds */
            path: string;
            message: string;
        };
        /** @description What applying the candidate would change; null when it is not valid. */
        PolicyEffect: {
            budgets_changed: {
                community: string;
                from: {
                    epsilon: number;
                    delta: number;
                };
                to: {
                    epsilon: number;
                    delta: number;
                };
            }[];
            communities_added: string[];
            communities_removed: string[];
            columns_exposed: string[];
            columns_hidden: string[];
            bounds_changed: {
                column: string;
                from: [
                    unknown,
                    unknown
                ] | null;
                to: [
                    unknown,
                    unknown
                ] | null;
            }[];
            tables_added: string[];
            tables_removed: string[];
            tables_made_public: string[];
            tables_made_private: string[];
            accounting_changed: {
                from: string;
                to: string;
            } | null;
            limits_changed: {
                limit: string;
                from?: unknown;
                to?: unknown;
            }[];
        } | null;
        PolicyCandidate: {
            files: {
                name: string;
                text: string;
            }[];
        };
        PolicyReload: {
            /** @enum {string} */
            status: "applied" | "unchanged";
            version: string;
            previous_version?: string;
        };
        PolicyVersion: {
            /** @description The content hash of the policy set */
            version: string;
            applied_at: string;
            files: string[];
            in_force: boolean;
        };
        AuditStatus: {
            ok: boolean;
            /** @description Entries that verify, from the first */
            entries: number;
            /** @description Hash of the newest entry, when the chain holds */
            head_hash: string | null;
            broken_at_id: number | null;
            reason: string | null;
        };
        Community: {
            id: string;
            /** @enum {string} */
            accounting: "basic" | "zcdp" | "rdp";
            budget: {
                /**
                 * @description Exact decimal, as the ledger holds it
                 * @example 0.1
                 */
                epsilon: string;
                /**
                 * @description Exact decimal, as the ledger holds it
                 * @example 0.1
                 */
                delta: string;
            };
            spent: {
                /** @description ε spent under the community’s accounting (zcdp: CKS20 conversion of ρ; rdp: the composed Rényi curve at the filter order) */
                epsilon: number;
                /**
                 * @description Exact decimal, as the ledger holds it
                 * @example 0.1
                 */
                delta: string;
                /**
                 * @description Exact decimal, as the ledger holds it
                 * @example 0.1
                 */
                rho?: string;
                /**
                 * @description Exact decimal, as the ledger holds it
                 * @example 0.1
                 */
                approx_epsilon?: string;
            };
            remaining: components["schemas"]["Remaining"];
            /** @description rdp accounting only: the fixed-order Rényi filter (Feldman & Zrnic 2021) */
            rdp?: {
                /** @description The Rényi filter’s order α, fixed with the budget */
                order: number;
                /** @description δ_conv: the δ at which the curve converts */
                conversion_delta: number;
                /** @description B(α): the largest composed RDP at α the filter admits */
                budget: number;
                /** @description Σ τ(α) of every charge at the filter’s order */
                spent: number;
                /** @description The largest ρ of one Gaussian release that still fits, (B(α) − Σ τ(α))/α */
                gaussian_rho_left: number;
                /** @description The δ of approximately-DP parts (partition selection), within their share */
                delta_parts: {
                    spent: number;
                    total: number;
                };
                /** @description The composed Rényi curve at every ledger order, with the ε each order alone would give at δ_conv; only the filter’s order is valid under adaptive charges */
                curve: {
                    order: number;
                    rdp: number;
                    epsilon: number;
                }[];
            };
            /** @description The ledger’s exact decimals beside the floats. Under zcdp the ε left is a conversion of ρ, so `remaining.epsilon` is null and `remaining.rho` is exact. */
            exact: {
                spent: {
                    /**
                     * @description Exact decimal, as the ledger holds it
                     * @example 0.1
                     */
                    epsilon: string;
                    /**
                     * @description Exact decimal, as the ledger holds it
                     * @example 0.1
                     */
                    delta: string;
                    /**
                     * @description Exact decimal, as the ledger holds it
                     * @example 0.1
                     */
                    rho?: string;
                };
                remaining: {
                    /**
                     * @description Exact decimal, as the ledger holds it
                     * @example 0.1
                     */
                    epsilon: string | null;
                    /**
                     * @description Exact decimal, as the ledger holds it
                     * @example 0.1
                     */
                    delta: string;
                    /**
                     * @description Exact decimal, as the ledger holds it
                     * @example 0.1
                     */
                    rho?: string | null;
                };
            };
            policy_version: string;
            updated_at: string;
        };
        Charge: {
            id: string;
            at: string;
            /** @enum {string} */
            kind: "query" | "training" | "evaluation";
            subject_id: string;
            description: string;
            principal: {
                id: string;
                name: string | null;
                role: string | null;
            };
            /**
             * @description Exact decimal, as the ledger holds it
             * @example 0.1
             */
            epsilon: string;
            /**
             * @description Exact decimal, as the ledger holds it
             * @example 0.1
             */
            delta: string;
            /**
             * @description Exact decimal, as the ledger holds it
             * @example 0.1
             */
            rho: string | null;
            mechanism: string;
            policy_version: string;
            request_id: string;
            /** @description rdp accounting only: the charge’s own (ε, δ), its Rényi curve converted at the community’s δ_conv (plus its δ part); `epsilon` above is what it added to the composed spend */
            own: {
                epsilon: number;
                delta: number;
            } | null;
        };
        ChargeDetail: {
            id: string;
            at: string;
            /** @enum {string} */
            kind: "query" | "training" | "evaluation";
            description: string;
            principal: {
                id: string;
                name: string | null;
                role: string | null;
            };
            epsilon: string;
            delta: string;
            rho: string | null;
            mechanism: string;
            /** @enum {string} */
            accounting: "basic" | "zcdp" | "rdp";
            policy_version: string;
            request_id: string;
            /** @description Every community the same request charged */
            communities: string[];
            /** @description For a query: the noisy answer as released (empty if none was) */
            answer: {
                status: string;
                released_at: string | null;
                columns: unknown[];
                rows: unknown[];
                accuracy: unknown[];
                cost?: unknown;
                scope?: unknown;
            } | null;
            /** @description For training: the job, its planned cost and its model card */
            job: {
                status: string;
                cost?: unknown;
                request?: unknown;
                finished_at: string | null;
                model_card?: unknown;
            } | null;
        };
        SpendHistory: {
            /** @enum {string} */
            accounting: "basic" | "zcdp" | "rdp";
            budget: {
                epsilon: number;
                delta: number;
            };
            points: {
                at: string;
                /** @description ε spent after this charge, under the community’s accounting */
                epsilon: number;
                delta: number;
                rho?: number;
                xi?: number;
            }[];
        };
        Catalog: {
            role: string;
            policy_version: string;
            /** @enum {string} */
            accounting: "basic" | "zcdp" | "rdp";
            /** @enum {string} */
            default_mechanism: "laplace" | "gaussian";
            reuse_answers: boolean;
            communities: string[];
            limits: {
                [key: string]: number;
            };
            tables: components["schemas"]["CatalogTable"][];
        };
        CatalogTable: {
            name: string;
            public: boolean;
            /** @description This table holds one row per person */
            privacy_unit: boolean;
            unit_path: string[] | null;
            contributions: {
                max_rows_per_unit: number;
                max_groups_per_unit: number;
            } | null;
            population: number | null;
            columns: components["schemas"]["CatalogColumn"][];
        };
        CatalogColumn: {
            name: string;
            type: string;
            bounds: [
                string | number | boolean,
                string | number | boolean
            ] | null;
            granularity: number | null;
            public_values: (string | number | boolean)[] | null;
            public_range: [
                number,
                number
            ] | null;
            /** @description A public table column (table.column), or a range of days { from, to } */
            public_domain: string | {
                from: string;
                to: string;
            } | null;
            max_distinct_per_unit: number | null;
        };
        QueryHistoryEntry: {
            id: string;
            /** @enum {string} */
            status: "pending" | "released" | "failed";
            sql: string | null;
            created_at: string;
            released_at: string | null;
            /** @description ε charged (the largest over the communities) */
            epsilon: string | null;
            delta: string | null;
            mechanism: string | null;
            communities: string[];
            policy_version: string;
        };
        Answer: {
            id: string | null;
            status: string;
            columns: string[];
            rows: unknown[][];
            accuracy: unknown[][];
            cost: {
                epsilon: number;
                delta: number;
                rho?: number;
                mechanism: string;
            };
            scope: {
                communities: string[];
                narrowed: boolean;
            };
            charged: {
                community: string;
                accounting: string;
                epsilon: string;
                delta: string;
                rho: string | null;
            }[];
            remaining: {
                [key: string]: components["schemas"]["Remaining"];
            };
            policy_version: string;
            repeated?: boolean;
        } & {
            [key: string]: unknown;
        };
        QueryRequest: {
            /** @example SELECT educ, COUNT(*) FROM people GROUP BY educ */
            sql: string;
            /** @description Privacy cost; defaults to the policy’s default_epsilon */
            epsilon?: number;
            /** @description δ for Gaussian noise or partition selection */
            delta?: number;
            /** @enum {string} */
            mechanism?: "laplace" | "gaussian";
            /** @description Return cost, scope and accuracy without touching data or budget */
            dry_run?: boolean;
            /** @description A retry with the same key returns the same answer, charged once */
            idempotency_key?: string;
            /** @description Free post-processing of the noisy answer: non_negative clamps counts at 0 (with total: projects them so they keep their noisy sum); total appends a row summing the groups of a public-domain GROUP BY. Applied steps are listed in post_processing. */
            post_process?: ("non_negative" | "total")[];
        };
        TrainingJob: {
            [key: string]: unknown;
        };
        Page: {
            items: components["schemas"]["TrainingJob"][];
            next_cursor: string | null;
        };
        ApiKey: {
            id: string;
            name: string;
            /** @enum {string} */
            role: "analyst" | "contributor" | "council";
            community: string | null;
            /** @description The first characters of the secret, to recognise it by */
            prefix: string;
            created_at: string;
            revoked_at: string | null;
        };
        CreatedApiKey: {
            key: components["schemas"]["ApiKey"];
            /** @description The key itself, shown this once and never stored */
            secret: string;
        };
        NewApiKey: {
            name: string;
            /** @enum {string} */
            role: "analyst" | "contributor" | "council";
            /** @description Contributor keys only */
            community?: string;
        };
        Federation: {
            federation: {
                gateway: {
                    id: string;
                    public_key: string;
                    fingerprint: string;
                };
                /** @description t: fewest nodes that must finish a round */
                threshold: number;
                /** @description f: nodes assumed to collude */
                max_colluding_nodes: number;
                /** @description t − f: nodes whose noise every released sum is sized for */
                guaranteed_nodes: number;
                tables: string[];
                node_timeout_ms: number;
                nodes: {
                    id: string;
                    community: string;
                    public_key: string;
                    fingerprint: string;
                    /** @description The council only; null for other roles */
                    url: string | null;
                    reachability: components["schemas"]["NodeReachability"];
                }[];
            } | null;
            policy_version: string;
        };
        /** @description null when this gateway holds no federation key (it does not contact nodes) */
        NodeReachability: {
            reachable: boolean;
            policy_version: string | null;
            same_policy: boolean;
            checked_at: string;
        } | null;
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description dpgate and its database are up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description The database is unreachable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key’s principal */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Principal"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getPolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The policy in force */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PolicyState"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    validatePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PolicyCandidate"];
            };
        };
        responses: {
            /** @description Whether the set is valid, every issue found, and its effect against the policy in force */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PolicyValidation"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The candidate is larger than 1 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    reloadPolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The set took effect, or it was already in force */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PolicyReload"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This gateway has no policy directory (Workers) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The set was refused (code `invalid_policy`, with `issues`); the last good policy keeps serving */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listPolicyVersions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The version history */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        versions: components["schemas"]["PolicyVersion"][];
                    };
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    verifyAuditLog: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The chain’s status */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditStatus"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listCommunities: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Communities */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        communities: components["schemas"]["Community"][];
                    };
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getCommunityLedger: {
        parameters: {
            query?: {
                /** @description Charges at or after this time */
                from?: string;
                /** @description Charges before this time */
                to?: string;
                /** @description A principal id or key name */
                analyst?: string;
                kind?: "query" | "training" | "evaluation";
                limit?: number;
                cursor?: string;
                format?: "json" | "csv";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of charges, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        community: components["schemas"]["Community"];
                        charges: components["schemas"]["Charge"][];
                        next_cursor: string | null;
                    };
                    "text/csv": string;
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such community */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getCharge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                charge_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The charge */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChargeDetail"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such charge to this community */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getCommunitySpend: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The spend over time */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SpendHistory"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such community */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getCatalog: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The catalog */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Catalog"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listQueries: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of your queries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        queries: components["schemas"]["QueryHistoryEntry"][];
                        next_cursor: string | null;
                    };
                };
            };
            /** @description A parameter is not valid (a cursor this API did not return) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createQuery: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["QueryRequest"];
            };
        };
        responses: {
            /** @description The released answer (or, for dry_run, its cost and accuracy) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Answer"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description budget_exhausted, or answer_pending */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The query was refused (code says why; position points into the SQL) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description execution_failed: the query failed while running; its charge stands */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getQuery: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The stored answer */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Answer"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such answer for this principal */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listTrainingJobs: {
        parameters: {
            query?: {
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of jobs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Page"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    table: string;
                    features: string[];
                    label: string;
                    join?: string[];
                    model: {
                        /** @enum {string} */
                        kind: "logistic";
                    } | {
                        /** @enum {string} */
                        kind: "softmax";
                    } | {
                        /** @enum {string} */
                        kind: "linear";
                    } | {
                        /** @enum {string} */
                        kind: "mlp";
                        hidden: [
                            number
                        ] | [
                            number,
                            number
                        ];
                        /**
                         * @default relu
                         * @enum {string}
                         */
                        activation?: "relu" | "tanh";
                    };
                    /**
                     * @default {
                     *       "kind": "adam",
                     *       "learning_rate": 0.05
                     *     }
                     */
                    optimizer?: {
                        /** @enum {string} */
                        kind: "sgd";
                        learning_rate: number;
                        weight_decay?: number;
                        schedule?: {
                            /** @enum {string} */
                            kind: "constant";
                        } | {
                            /** @enum {string} */
                            kind: "cosine";
                            warmup_steps?: number;
                            final_fraction?: number;
                        } | {
                            /** @enum {string} */
                            kind: "step";
                            every: number;
                            factor: number;
                        };
                        momentum?: number;
                    } | {
                        /** @enum {string} */
                        kind: "adam";
                        learning_rate: number;
                        weight_decay?: number;
                        schedule?: {
                            /** @enum {string} */
                            kind: "constant";
                        } | {
                            /** @enum {string} */
                            kind: "cosine";
                            warmup_steps?: number;
                            final_fraction?: number;
                        } | {
                            /** @enum {string} */
                            kind: "step";
                            every: number;
                            factor: number;
                        };
                        beta1?: number;
                        beta2?: number;
                        epsilon?: number;
                    };
                    /** @default 1 */
                    clip_norm?: number;
                    batch_size?: number;
                    sampling_rate?: number;
                    epochs?: number;
                    steps?: number;
                    epsilon?: number;
                    noise_multiplier?: number;
                    delta?: number;
                    /**
                     * @default pld
                     * @enum {string}
                     */
                    accountant?: "rdp" | "pld";
                    holdout?: {
                        fraction: number;
                        epsilon: number;
                    };
                    population_epsilon?: number;
                    pretrain?: {
                        table: string;
                        epochs: number;
                        /** @default 32 */
                        batch_size?: number;
                    };
                    candidates?: {
                        model: {
                            /** @enum {string} */
                            kind: "logistic";
                        } | {
                            /** @enum {string} */
                            kind: "softmax";
                        } | {
                            /** @enum {string} */
                            kind: "linear";
                        } | {
                            /** @enum {string} */
                            kind: "mlp";
                            hidden: [
                                number
                            ] | [
                                number,
                                number
                            ];
                            /**
                             * @default relu
                             * @enum {string}
                             */
                            activation?: "relu" | "tanh";
                        };
                        optimizer?: {
                            /** @enum {string} */
                            kind: "sgd";
                            learning_rate: number;
                            weight_decay?: number;
                            schedule?: {
                                /** @enum {string} */
                                kind: "constant";
                            } | {
                                /** @enum {string} */
                                kind: "cosine";
                                warmup_steps?: number;
                                final_fraction?: number;
                            } | {
                                /** @enum {string} */
                                kind: "step";
                                every: number;
                                factor: number;
                            };
                            momentum?: number;
                        } | {
                            /** @enum {string} */
                            kind: "adam";
                            learning_rate: number;
                            weight_decay?: number;
                            schedule?: {
                                /** @enum {string} */
                                kind: "constant";
                            } | {
                                /** @enum {string} */
                                kind: "cosine";
                                warmup_steps?: number;
                                final_fraction?: number;
                            } | {
                                /** @enum {string} */
                                kind: "step";
                                every: number;
                                factor: number;
                            };
                            beta1?: number;
                            beta2?: number;
                            epsilon?: number;
                        };
                        clip_norm?: number;
                    }[];
                    search?: {
                        /**
                         * @default cheaper
                         * @enum {string}
                         */
                        method?: "cheaper" | "composition" | "random_stopping";
                        /** @default 1 */
                        eta?: number;
                        gamma?: number;
                        max_runs?: number;
                    };
                    standardise?: {
                        epsilon: number;
                    };
                    dry_run?: boolean;
                };
            };
        };
        responses: {
            /** @description dry_run: the cost and what each community would have left (nothing charged, no data read) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description Charged and queued */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description budget_exhausted */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The request cannot be made private */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listModels: {
        parameters: {
            query?: {
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of models */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Page"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such job or model for you */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    streamTrainingJobEvents: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An event stream */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such job or model for you */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job has ended: cancelled now, or already succeeded, failed or cancelled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description Cancel requested from the gateway running the job */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such job or model for you */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such job or model for you */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    predictWithModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    rows: {
                        [key: string]: number | null;
                    }[];
                };
            };
        };
        responses: {
            /** @description One prediction per row */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description The request is not valid: each issue names its field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such job or model for you */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        keys: components["schemas"]["ApiKey"][];
                    };
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewApiKey"];
            };
        };
        responses: {
            /** @description The new key */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedApiKey"];
                };
            };
            /** @description The request is not valid (a contributor key without a community, or the reverse) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    revokeKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The revoked key */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKey"];
                };
            };
            /** @description The id is not a UUID */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key is already revoked */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    rotateKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new key */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedApiKey"];
                };
            };
            /** @description The id is not a UUID */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key’s role may not use this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The key is already revoked */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this key; retry after the time given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getFederation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The federation */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Federation"];
                };
            };
            /** @description Missing or unknown API key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
