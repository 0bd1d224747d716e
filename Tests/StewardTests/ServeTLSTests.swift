import Foundation
import Testing
@testable import StewardServer

extension ServeTests {
    /// `--tls-cert`/`--tls-key`: the same API over HTTPS (a certificate made here with openssl), and
    /// files that are not PEM refused with the file named.
    @Suite struct TLS {
        @Test func theAPIAnswersOverHTTPSWithTheGivenCertificate() async throws {
            let demo = try await ServeDemo.shared.value
            let folder = TempProject("tls")
            let dir = folder.dir
            let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
            let made = try runTool("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
            #expect(made.status == 0, "\(made.output)")

            let options = try ServerOptions(listen: "127.0.0.1:0", tlsCertificatePath: cert, tlsKeyPath: key)
            #expect(options.url(port: 1) == "https://127.0.0.1:1")
            let server = try await RunningServer.start(demo, options: options)
            let token = try demo.token(.read).token
            let https = try await offPool {
                try runTool("/usr/bin/curl", ["-s", "--cacert", cert, "-H", "Authorization: Bearer \(token)",
                                          "https://127.0.0.1:\(server.port)/v1/runs?limit=1"])
            }
            #expect(https.status == 0)
            #expect(((try? JSONSerialization.jsonObject(with: Data(https.output.utf8))) as? [[String: Any]])?.count == 1, "\(https.output)")
            // Plain HTTP to the TLS port gets no API answer.
            let plain = try await offPool { try runTool("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/v1/health"]) }
            #expect(plain.output != "200")
            await server.stop()

            let notPEM = dir.appendingPathComponent("not.pem")
            try Data("hello".utf8).write(to: notPEM)
            let bad = try ServerOptions(listen: "127.0.0.1:0", tlsCertificatePath: notPEM.path, tlsKeyPath: key)
            let refused = try APIServer(config: demo.config, catalog: demo.catalog, options: bad, log: { _ in })
            #expect { try refused.serverBuilder() } throws: { ($0 as? ServeError)?.description.contains(notPEM.path) == true }
        }
    }
}
