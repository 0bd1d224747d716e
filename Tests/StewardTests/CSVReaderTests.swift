import Foundation
import Testing
@testable import StewardPipeline

@Suite struct CSVReaderTests {
    func records(_ text: String, delimiter: Character = ",", chunk: Int = 1 << 20, bytes: [UInt8]? = nil) throws -> [CSVRecord] {
        let project = TempProject("csv")
        let url = project.dir.appendingPathComponent("f.csv")
        try Data(bytes ?? Array(text.utf8)).write(to: url)
        let reader = try CSVReader(path: url.path, delimiter: delimiter.asciiValue!, chunkSize: chunk)
        var out: [CSVRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    @Test func quotesEscapedQuotesAndEmbeddedNewlines() throws {
        let r = try records("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"line1\nline2\",z\n3,,\n")
        #expect(r.map(\.fields) == [["a", "b", "c"], ["1", "x, y", "say \"hi\""], ["2", "line1\nline2", "z"], ["3", "", ""]])
        #expect(r.map(\.line) == [1, 2, 3, 5])
    }

    @Test func crlfAndBOM() throws {
        let r = try records("", bytes: [0xEF, 0xBB, 0xBF] + Array("id,name\r\n1,Zoë\r\n2,\"a\r\nb\"\r\n".utf8))
        #expect(r.map(\.fields) == [["id", "name"], ["1", "Zoë"], ["2", "a\r\nb"]])
        #expect(r[2].line == 3)
    }

    @Test func customDelimiterAndMissingFinalNewline() throws {
        let r = try records("id;name\n1;Ann;extra\n2;Bo", delimiter: ";")
        #expect(r.map(\.fields) == [["id", "name"], ["1", "Ann", "extra"], ["2", "Bo"]])
    }

    @Test func recordsSpanningChunkBoundaries() throws {
        var text = "id,note\n"
        for i in 0..<200 { text += "\(i),\"quoted, \"\"value\"\" \(i)\nsecond line\"\n" }
        let small = try records(text, chunk: 7)
        let big = try records(text)
        #expect(small == big)
        #expect(small.count == 201)
        #expect(small[200].fields == ["199", "quoted, \"value\" 199\nsecond line"])
        #expect(small[200].line == 1 + 199 * 2 + 1)
    }

    @Test func unterminatedQuoteIsReportedWithItsLineAndReadingResumes() throws {
        let r = try records("id,name\n1,ok\n2,\"never closed\n3,x\n")
        #expect(r.count == 4)
        #expect(r[2].problem?.contains("line 3") == true)
        #expect(r[2].fields == ["2", "\"never closed"])
        #expect(r[3].fields == ["3", "x"] && r[3].line == 4 && r[3].problem == nil)
    }

    @Test func aLastLineWithAnOpenQuoteIsOneProblemRecord() throws {
        let r = try records("id,name\n1,\"open")
        #expect(r.count == 2 && r[1].problem != nil && r[1].line == 2)
    }

    @Test func anEmptyQuotedValueAloneIsARowNotABlankLine() throws {
        let r = try records("note\n\"\"\n\nx\n")
        #expect(r.map(\.fields) == [["note"], [""], ["x"]])
        #expect(r.map(\.line) == [1, 2, 4])
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        let r = try records("id\n\n1\n\n2\n")
        #expect(r.map(\.fields) == [["id"], ["1"], ["2"]])
        #expect(r.map(\.line) == [1, 3, 5])
    }

    @Test func sha256KnownVectors() throws {
        var h = SHA256()
        h.update(Array("abc".utf8))
        #expect(h.finalize() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var empty = SHA256()
        #expect(empty.finalize() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let project = TempProject("sha")
        let url = project.write("big.txt", String(repeating: "a", count: 1_000_000))
        #expect(try SHA256.file(url.path).digest == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Fed in pieces that straddle the 64-byte blocks: the same digest as one piece.
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        for piece in [1, 7, 63, 64, 65] {
            var streamed = SHA256()
            var at = 0
            while at < message.count { let end = min(at + piece, message.count); streamed.update(Array(message[at..<end])); at = end }
            #expect(streamed.finalize() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "pieces of \(piece)")
        }
    }

    @Test func rawRowsAreValidJSONWhateverTheyHold() throws {
        let values = ["plain", "quote \" and \\ backslash", "line\nbreak\r\ttab", "ctrl \u{01}", "Zoë 山田", ""]
        let keys = ["a", "b", "c", "d", "e", "f"]
        let text = JSONText.object(keys: keys, values: values)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: String]
        #expect(parsed == Dictionary(uniqueKeysWithValues: zip(keys, values)))
        let ragged = try JSONSerialization.jsonObject(with: Data(JSONText.object(keys: ["a"], values: ["1", "2"]).utf8)) as! [String: String]
        #expect(ragged == ["a": "1", "_extra1": "2"])
    }

    @Test func rowHashesAreWrittenAsRadix16Hex() {
        var chunk = PreparedChunk()
        let values: [UInt64] = [0, 1, 0xf, 0x10, 0xcbf29ce484222325, .max, 0x0000_00ab_cdef_0123]
        for v in values { chunk.append(hex: v) }
        let written = chunk.slots.map { slot -> String in
            guard case .text(let start, let count) = slot else { return "?" }
            return String(decoding: chunk.bytes[start..<start + count], as: UTF8.self)
        }
        #expect(written == values.map { String($0, radix: 16) })
    }

    @Test func rawRowsAreArraysHashedAsTheirObject() throws {
        let values = ["plain", "quote \" and \\ backslash", "line\nbreak\r\ttab", "ctrl \u{01}", "Zoë 山田", ""]
        let keys = ["a", "b", "c", "d", "e", "f"]
        let (text, hash) = JSONText.array(quotedKeys: JSONText.quotedKeys(keys), values: values)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String] == values)
        // Staging compares this hash with the one stored when raw rows were objects: it must not change.
        #expect(hash == FNV.value(JSONText.object(keys: keys, values: values)))

        // Escapes beyond the first guess of the text's length: written again at its exact length.
        let escapes = [String(repeating: "\"", count: 40), String(repeating: "\u{01}\n", count: 30), "end"]
        let (escapedText, escapedHash) = JSONText.array(quotedKeys: JSONText.quotedKeys(["x", "y", "z"]), values: escapes)
        #expect(try JSONSerialization.jsonObject(with: Data(escapedText.utf8)) as! [String] == escapes)
        #expect(escapedHash == FNV.value(JSONText.object(keys: ["x", "y", "z"], values: escapes)))

        // Escapes early in a value, plain bytes after them: the plain bytes must not run past the guess (found
        // in review: 60 line breaks then a long tail crashed the run).
        for value in [String(repeating: "\nx", count: 60) + String(repeating: "tail ", count: 30),
                      String(repeating: "\\", count: 30) + String(repeating: "a", count: 50)] {
            let (t, h) = JSONText.array(quotedKeys: JSONText.quotedKeys(["id", "v"]), values: ["1", value])
            #expect(try JSONSerialization.jsonObject(with: Data(t.utf8)) as! [String] == ["1", value])
            #expect(h == FNV.value(JSONText.object(keys: ["id", "v"], values: ["1", value])))
        }

        let row = SourceRow(positional: values, line: 2, quotedKeys: JSONText.quotedKeys(keys), problem: nil)
        #expect(row.rawIsArray && row.rawText == text && row.objectHash == hash)
        #expect(row.objectText(quotedKeys: JSONText.quotedKeys(keys)) == JSONText.object(keys: keys, values: values))
        // A ragged row keeps the object form: its extra fields have no column name to go by.
        let ragged = SourceRow(positional: ["1", "2"], line: 3, quotedKeys: JSONText.quotedKeys(["a"]), problem: "expected 1 fields, found 2")
        #expect(!ragged.rawIsArray && ragged.rawText == JSONText.object(keys: ["a"], values: ["1", "2"]))
    }
}
