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
        get: {
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
        /** Who this API key belongs to */
        get: {
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
            };
        };
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
        get: {
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
            };
        };
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
        post: {
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
            };
        };
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
        post: {
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
            };
        };
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
        get: {
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
            };
        };
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
        get: {
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
            };
        };
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
        get?: never;
        put?: never;
        /** Ask an aggregate SQL query; get noisy rows, their accuracy and the privacy cost charged */
        post: {
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
            };
        };
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
        get: {
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
            };
        };
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
        get?: never;
        put?: never;
        /** Train a model with DP-SGD on a governed table; the full cost is charged before training starts */
        post: {
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
                            momentum?: number;
                        } | {
                            /** @enum {string} */
                            kind: "adam";
                            learning_rate: number;
                        };
                        /** @default 1 */
                        clip_norm?: number;
                        batch_size: number;
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
                                momentum?: number;
                            } | {
                                /** @enum {string} */
                                kind: "adam";
                                learning_rate: number;
                            };
                            clip_norm?: number;
                        }[];
                    };
                };
            };
            responses: {
                /** @description Charged and queued */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TrainingJob"];
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
            };
        };
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
        get: {
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
            };
        };
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
        /** Server-sent events: `progress` (step, epoch, ε spent, examples/s) and `status`, until the job ends */
        get: {
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
            };
        };
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
        /** Stop a queued or running job (its charge stands) */
        post: {
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
                /** @description Cancel requested */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TrainingJob"];
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
            };
        };
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
        get: {
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
            };
        };
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
        post: {
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
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Verify the audit log’s hash chain */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Whether every entry links to the one before and matches its hash */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AuditVerification"];
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
            };
        };
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
        Community: {
            id: string;
            /** @enum {string} */
            accounting: "basic" | "zcdp";
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
                /** @description ε spent under the community’s accounting (zcdp: tight conversion of ρ) */
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
            remaining: {
                epsilon: number;
                delta: number;
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
                [key: string]: {
                    epsilon: number;
                    delta: number;
                };
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
        };
        TrainingJob: {
            [key: string]: unknown;
        };
        AuditVerification: {
            ok: boolean;
            /** @description Entries that verify, from the first */
            entries: number;
            /** @description Hash of the newest entry, when all verify */
            head_hash?: string;
            /** @description The first entry that does not */
            broken_at_id?: number;
            reason?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
