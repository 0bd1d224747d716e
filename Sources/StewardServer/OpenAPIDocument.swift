import Foundation
import Yams

/// The OpenAPI 3.1 document of the API, served as `GET /openapi.json`. Its text is docs/openapi.yaml
/// byte for byte (ServeOpenAPITests fails when the two differ: edit both), embedded so that a copied
/// binary serves it without the repository.
public enum OpenAPIDocument {
    /// The document as JSON, converted once from the YAML.
    public static let json: Data = {
        guard let object = try? Yams.load(yaml: yaml),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            preconditionFailure("the embedded OpenAPI document is not valid YAML")
        }
        return data
    }()

    public static let yaml = ##"""
openapi: 3.1.0
info:
  title: Steward data API
  version: "1"
  description: >-
    `steward serve`: the catalog's read API and real-time intake (`POST /v1/events/{source}`). Bodies are the CLI's `--json` (docs/CONTRACTS.md).
    PII is masked unless a `pii` token asks `?reveal=true` (one audit event per request).
servers:
  - url: http://127.0.0.1:8750
security:
  - bearer: []
paths:
  /v1/health:
    get:
      summary: The health verdict; its problems with a read token
      security: [{}, {bearer: []}]
      responses:
        "200":
          description: "`{status}` without a token; the `check --json` body with one of scope read"
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Health"}
        "304": {$ref: "#/components/responses/NotModified"}
        "401": {$ref: "#/components/responses/Error"}
  /v1/sources:
    get:
      summary: Per-source health (`status --json`)
      responses:
        "200":
          description: The status body
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Status"}
        "304": {$ref: "#/components/responses/NotModified"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
  /v1/quality:
    get:
      summary: Data-quality scores and checks (`quality --json`)
      responses:
        "200":
          description: The quality body
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Quality"}
        "304": {$ref: "#/components/responses/NotModified"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
  /v1/kpis:
    get:
      summary: Every KPI measured now, not stored (`kpi --json`)
      responses:
        "200":
          description: The KPIs
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/KPI"}}
        "304": {$ref: "#/components/responses/NotModified"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
  /v1/runs:
    get:
      summary: Run history, newest first (`runs --json`)
      parameters:
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 20}}
      responses:
        "200":
          description: The runs
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Run"}}
        "304": {$ref: "#/components/responses/NotModified"}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
  /v1/customers:
    get:
      summary: The console's search by name, email, phone (any format), postcode or id (`customer search --json`)
      parameters:
        - {name: q, in: query, required: true, schema: {type: string, minLength: 1}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 20}}
        - {name: reveal, in: query, description: needs a pii token; audited, schema: {type: boolean, default: false}}
      responses:
        "200":
          description: The hits, best first
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Hit"}}
        "304": {$ref: "#/components/responses/NotModified"}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
  /v1/customers/{id}:
    get:
      summary: The Customer 360 record (`customer show --json`)
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: reveal, in: query, description: needs a pii token; audited, schema: {type: boolean, default: false}}
      responses:
        "200":
          description: The 360 record
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Customer"}
        "304": {$ref: "#/components/responses/NotModified"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "410": {$ref: "#/components/responses/Error"}
  /v1/customers/lookup:
    get:
      summary: "Exact identifier lookup through the lookup index (blind tokens with the vault on); a phone in any format"
      description: Give exactly one of `email` or `phone`. The identifier is never echoed in an answer or a log.
      parameters:
        - {name: email, in: query, schema: {type: string, minLength: 1}}
        - {name: phone, in: query, schema: {type: string, minLength: 1}}
      responses:
        "200":
          description: The customer holding it (`matches` counts customers holding it, usually 1)
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Lookup"}
        "304": {$ref: "#/components/responses/NotModified"}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "429": {$ref: "#/components/responses/Error"}
  /v1/roadmap:
    get:
      summary: The roadmap checklist (`roadmap list --json`)
      responses:
        "200":
          description: The plan's tasks in file order
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/RoadmapTask"}}
        "304": {$ref: "#/components/responses/NotModified"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
  /v1/events/{source}:
    post:
      summary: "Push events to a `format: http` source (a write token)"
      description: >-
        The body is a JSON object (one event), a JSON array of objects, or NDJSON (one object per line), at most
        10 MB. Each request is one batch (lineage: request id, token, line), checked, staged or quarantined like a
        file's rows and committed before the answer. An event whose key and content are already staged is
        acknowledged as `unchanged` and not written again; the same key with other content is a new version.
        Person records are matched into the customers within seconds (`GET /v1/customers/lookup` finds them).
      parameters:
        - {name: source, in: path, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf:
                - {type: object}
                - {type: array, items: {type: object}}
          application/x-ndjson:
            schema: {type: string}
      responses:
        "200":
          description: What the batch did; each quarantined event's line (an array's element number) and reasons, never values
          content:
            application/json:
              schema: {$ref: "#/components/schemas/IntakeReceipt"}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
        "503":
          description: The catalog's privacy vault key is not available to the server; nothing was stored
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "429":
          description: Over the token's rate; retry after `Retry-After` seconds
          headers:
            Retry-After: {schema: {type: integer, minimum: 1}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
  /openapi.json:
    get:
      summary: This document
      security: [{}]
      responses:
        "200":
          description: The OpenAPI document as JSON
          content:
            application/json:
              schema: {type: object, required: [openapi, paths]}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer, description: "`steward token create NAME --scope read|pii|write`"}
  responses:
    NotModified:
      description: The If-None-Match ETag is current (the catalog has not changed)
    Error:
      description: Any error
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [code, message]
          properties:
            code: {type: string}
            message: {type: string}
    Health:
      type: object
      required: [status]
      properties:
        status: {enum: [ok, warn, breach, unknown]}
        problems:
          type: array
          items:
            type: object
            required: [kind, subject, message, severity]
            properties:
              kind: {type: string}
              subject: {type: string}
              message: {type: string}
              severity: {enum: [ok, warn, breach, unknown]}
        kpis: {type: array, items: {$ref: "#/components/schemas/KPI"}}
        anomalies: {type: array, items: {type: object}}
    Status:
      type: object
      required: [project, sources, last_run]
      properties:
        project: {type: string}
        sources:
          type: array
          items:
            type: object
            required: [name, system, entity, status, last_loaded_at, rows_raw, rows_staged, rows_quarantined, quality_score, freshness]
            properties:
              name: {type: string}
              system: {type: string}
              entity: {type: string}
              status: {enum: [ok, warn, error, stale, never, running]}
              last_loaded_at: {type: [string, "null"]}
              rows_raw: {type: integer}
              rows_staged: {type: integer}
              rows_quarantined: {type: integer}
              quality_score: {type: [number, "null"]}
              freshness:
                type: object
                required: [age_seconds, status]
                properties:
                  age_seconds: {type: [integer, "null"]}
                  status: {type: string}
        last_run:
          oneOf:
            - {type: "null"}
            - type: object
              required: [id, status, started_at, finished_at]
    Quality:
      type: object
      required: [score, dimensions, sources]
      properties:
        score: {type: [number, "null"]}
        dimensions:
          type: object
          required: [completeness, validity, uniqueness, consistency, timeliness]
        sources:
          type: array
          items:
            type: object
            required: [name, score, checks]
            properties:
              checks:
                type: array
                items:
                  type: object
                  required: [name, type, column, dimension, severity, passed, failed, score, status]
    KPI:
      type: object
      required: [name, target, actual, unit, status, due]
      properties:
        name: {type: string}
        target: {type: string}
        actual: {type: [number, "null"]}
        unit: {type: string}
        status: {enum: [met, at_risk, breached, no_data]}
        due: {type: [string, "null"]}
    Run:
      type: object
      required: [id, trigger, status, started_at, finished_at, steps]
      properties:
        id: {type: integer}
        trigger: {type: string}
        status: {type: string}
        started_at: {type: [string, "null"]}
        finished_at: {type: [string, "null"]}
        steps:
          type: array
          items:
            type: object
            required: [source, rows_read, rows_loaded, rows_quarantined, status, message]
            properties:
              source: {type: string}
              rows_read: {type: integer}
              rows_loaded: {type: integer}
              rows_quarantined: {type: integer}
              status: {type: string}
              message: {type: [string, "null"]}
    Hit:
      type: object
      required: [customer_id, name, email, phone, city, rank]
      properties:
        customer_id: {type: string}
        name: {type: string}
        email: {type: [string, "null"]}
        phone: {type: [string, "null"]}
        city: {type: [string, "null"]}
        rank: {type: integer}
    Lookup:
      type: object
      required: [customer_id, matches]
      properties:
        customer_id: {type: string}
        matches: {type: integer, minimum: 1}
    RoadmapTask:
      type: object
      required: [id, phase, section, text, done, line, due]
      properties:
        id: {type: string}
        phase: {type: string}
        section: {type: string}
        text: {type: string}
        done: {type: boolean}
        line: {type: integer}
        due: {type: [string, "null"]}
        state: {type: string}
        overdue: {type: boolean}
        note: {type: [string, "null"]}
    IntakeReceipt:
      type: object
      required: [accepted, quarantined, unchanged, rejected, request_id, run_id, batch_id]
      properties:
        accepted: {type: integer, description: "events staged new or changed, plus those already staged unchanged"}
        quarantined: {type: integer}
        unchanged: {type: integer}
        rejected:
          type: array
          items:
            type: object
            required: [line, reasons]
            properties:
              line: {type: integer}
              reasons: {type: array, items: {type: string}}
        request_id: {type: string}
        run_id: {type: integer}
        batch_id: {type: integer}
    Customer:
      type: object
      required: [customer_id, golden, sources, history, addresses, activity, segment, churn_score, traits, trait_provenance, consent, audiences]
      properties:
        customer_id: {type: string}
        golden: {type: object, additionalProperties: {type: string}}
        sources:
          type: array
          items:
            type: object
            required: [source, record_id, match_probability]
            properties:
              source: {type: string}
              record_id: {type: string}
              match_probability: {type: [number, "null"]}
        history: {type: array, items: {type: object}}
        addresses: {type: array, items: {type: object}}
        activity:
          type: object
          required: [orders, revenue, last_order_at, tickets, events]
        segment: {type: [string, "null"]}
        churn_score: {type: [number, "null"]}
        traits:
          description: Custom traits (steward.yml `traits:`), masked like golden values unless revealed; a number or bool trait is a JSON number or boolean, a masked one the masked text
          type: object
          additionalProperties: {type: [string, number, boolean]}
        trait_provenance:
          description: The source record each trait's value came from (`source:record_key`)
          type: object
          additionalProperties: {type: string}
        consent:
          description: Per channel; `granted` is false without a statement
          type: object
          additionalProperties:
            type: object
            required: [granted, statement, at, source]
            properties:
              granted: {type: boolean}
              statement: {enum: [granted, withdrawn, none]}
              at: {type: [string, "null"]}
              source: {type: [string, "null"]}
        audiences:
          type: array
          items:
            type: object
            required: [name, holdout]
            properties:
              name: {type: string}
              holdout: {type: boolean}
"""##
}
