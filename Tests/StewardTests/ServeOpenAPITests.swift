import Foundation
import GRDB
import Testing
@testable import StewardServer

extension ServeTests {
    /// docs/openapi.yaml is what `/openapi.json` serves, is a valid OpenAPI 3.1 document, and every
    /// documented endpoint's served body matches its schema (checked by Python's jsonschema and
    /// openapi-spec-validator, which this machine kind ships).
    @Suite struct OpenAPI {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        @Test func theServedDocumentIsTheRepositorysAndEveryBodyMatchesItsSchema() async throws {
            let file = try String(contentsOf: Self.repository.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
            #expect(file == OpenAPIDocument.yaml + "\n", "docs/openapi.yaml and OpenAPIDocument.yaml differ: edit both")

            let demo = try await ServeDemo.shared.value
            let server = try await RunningServer.start(demo)
            let token = try demo.token(.read).token
            let served = try await server.get("/openapi.json")
            #expect(served.status == 200)
            #expect(sameJSON(served.json, try JSONSerialization.jsonObject(with: OpenAPIDocument.json)))
            let spec = try #require(served.object["paths"] as? [String: Any])

            // Every documented path, served with what it needs; bodies are checked against the spec's 200 schema.
            let id = try demo.someCustomerId()
            var cases: [[String: Any]] = []
            let email = try await offPool { try demo.catalog.pool.read { db in
                try String.fetchOne(db, sql: "SELECT vault_open(email) FROM golden_customer WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1")
            } }
            let queries = ["/v1/customers": "?q=smith&limit=5",
                           "/v1/customers/lookup": "?email=" + (email ?? "").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!]
            for path in spec.keys.sorted() where (spec[path] as? [String: Any])?["get"] != nil {
                let url = path.replacingOccurrences(of: "{id}", with: id) + (queries[path] ?? "")
                let reply = try await server.get(url, token: token)
                #expect(reply.status == 200, "\(url)")
                cases.append(["path": path, "status": "200", "body": reply.json ?? NSNull()])
            }
            // The one POST: a file-fed source refuses pushed events (409); the 200 is checked on an http source below.
            let write = try demo.token(.write).token
            let refused = try await server.post("/v1/events/crm_contacts", token: write, body: "{}")
            cases.append(["path": "/v1/events/{source}", "method": "post", "status": "409", "body": refused.json ?? NSNull()])
            let bare = try await server.get("/v1/health")
            cases.append(["path": "/v1/health", "status": "200", "body": bare.json ?? NSNull()])
            let denied = try await server.get("/v1/sources")
            cases.append(["path": "/v1/sources", "status": "401", "body": denied.json ?? NSNull()])
            let gone = try await server.get("/v1/customers/C0", token: token)
            cases.append(["path": "/v1/customers/{id}", "status": "404", "body": gone.json ?? NSNull()])
            await server.stop()
            let intake = try await IntakeDemo.shared.value
            let pushServer = try await RunningServer.start(intake)
            let pushed = try await pushServer.post("/v1/events/web_signups", token: try intake.token(.write).token,
                                                   body: #"[{"user_id": "spec-1", "email": "spec@example.org"}, {"user_id": "spec-2"}]"#)
            #expect(pushed.status == 200)
            cases.append(["path": "/v1/events/{source}", "method": "post", "status": "200", "body": pushed.json ?? NSNull()])
            await pushServer.stop()

            let folder = TempProject("openapi")
            let specURL = folder.dir.appendingPathComponent("spec.json"), casesURL = folder.dir.appendingPathComponent("cases.json")
            try OpenAPIDocument.json.write(to: specURL)
            try JSONSerialization.data(withJSONObject: cases).write(to: casesURL)
            let check = try await offPool { try runTool("/usr/bin/env", ["python3", "-c", Self.validator, specURL.path, casesURL.path]) }
            #expect(check.status == 0, "\(check.output)")
            #expect(check.output.contains("checked \(cases.count) bodies"), "\(check.output)")
        }

        static let validator = """
            import json, sys
            from jsonschema import Draft202012Validator
            from openapi_spec_validator import validate
            spec = json.load(open(sys.argv[1]))
            validate(spec)
            problems = []
            cases = json.load(open(sys.argv[2]))
            for case in cases:
                response = spec["paths"][case["path"]][case.get("method", "get")]["responses"][case["status"]]
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
                schema = dict(response["content"]["application/json"]["schema"])
                schema["components"] = spec["components"]
                for error in Draft202012Validator(schema).iter_errors(case["body"]):
                    problems.append(case["path"] + " " + case["status"] + ": " + "/".join(map(str, error.absolute_path)) + " " + error.validator)
            print("\\n".join(problems))
            print("checked %d bodies" % len(cases))
            sys.exit(1 if problems else 0)
            """
    }
}
