import Foundation
import Testing
@testable import StewardPipeline

private let ref = ReferenceData.shared
private let us = Standardiser(reference: ref, defaultRegion: "US")
private let gb = Standardiser(reference: ref, defaultRegion: "GB")
private let dmy = Standardiser(reference: ref, defaultRegion: "GB", dateFormats: ["%d/%m/%Y"])

private typealias R = Result<String, StandardiseError>
private func ok(_ s: String) -> R? { .success(s) }
private func err(_ e: StandardiseError) -> R? { .failure(e) }

@Suite("Standardise: reference data")
struct StandardiseReferenceTests {
    @Test func locatesAndLoadsDataDirectory() throws {
        let dir = try #require(ReferenceData.locateDataDirectory())
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("iso3166.csv").path))
        let data = try ReferenceData.load(from: dir)
        #expect(data.countries.count > 240)
        #expect(data.countries["US"]?.nationalLengths == 10...10)
        #expect(data.countries["GB"]?.trunkPrefix == "0")
        #expect(data.countries["BQ"]?.name == "Bonaire, Sint Eustatius and Saba")  // quoted field
    }

    @Test(arguments: [
        ("us", "US"), ("USA", "US"), ("United States", "US"), ("U.S.A.", "US"), ("  united   states ", "US"),
        ("America", "US"), ("840", "US"), ("United Kingdom", "GB"), ("uk", "GB"), ("U.K.", "GB"),
        ("Great Britain", "GB"), ("England", "GB"), ("GBR", "GB"), ("DEU", "DE"), ("276", "DE"), ("Deutschland", "DE"),
        ("germany", "DE"), ("Holland", "NL"), ("the Netherlands", "NL"), ("Côte d'Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"), ("76", "BR"), ("Åland Islands", "AX"), ("British Virgin Islands", "VG"),
        ("Democratic Republic of the Congo", "CD"), ("Korea", "KR"), ("Congo", "CG"), ("Micronesia", "FM"),
        ("St Lucia", "LC"), ("St. Kitts and Nevis", "KN"), ("Vatican", "VA"), ("Holy See", "VA"),
    ])
    func countryLookup(raw: String, expected: String) {
        #expect(ref.country(raw) == expected)
    }

    @Test(arguments: ["Narnia", "", "  ", "X", "ZZ", "999", "Unitedd States"])
    func unknownCountries(raw: String) {
        #expect(ref.country(raw) == nil)
    }

    @Test func callingCodes() {
        #expect(ref.callingCode(forCountry: "US") == "1")
        #expect(ref.callingCode(forCountry: "GB") == "44")
        #expect(ref.callingCode(forCountry: "DE") == "49")
        #expect(ref.callingCode(forCountry: "gb") == "44")
        #expect(ref.callingCode(forCountry: "AQ") == nil)
        #expect(ref.callingCode(forCountry: "Narnia") == nil)
    }

    private func tempDir(iso: String, postcodes: String? = nil) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try iso.write(to: dir.appendingPathComponent("iso3166.csv"), atomically: true, encoding: .utf8)
        if let postcodes {
            try postcodes.write(to: dir.appendingPathComponent("postcodes.csv"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    private let header = "alpha2,alpha3,numeric,name,calling_code,trunk_prefix,national_lengths\n"

    @Test func loadErrorNamesFileAndLine() throws {
        let dir = try tempDir(iso: header + "US,USA,840,United States,1,1,10-10\nGB,GBR,826,United Kingdom,44,0,ten\n",
                              postcodes: "country,pattern,example\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            try ReferenceData.load(from: dir)
        } throws: { error in
            let e = error as? ReferenceDataError
            return e?.line == 3 && e?.file.hasSuffix("iso3166.csv") == true
                && "\(error)".contains("iso3166.csv:3:") && "\(error)".contains("national_lengths")
        }
    }

    @Test func loadErrorForBadRegexPatternAndMissingFile() throws {
        let iso = header + "US,USA,840,United States,1,1,10-10\n"
        let bad = try tempDir(iso: iso, postcodes: "country,pattern,example\nUS,^[0-9]{5}$,9410\n")
        defer { try? FileManager.default.removeItem(at: bad) }
        #expect {
            try ReferenceData.load(from: bad)
        } throws: { error in
            "\(error)".contains("postcodes.csv:2:") && "\(error)".contains("does not match")
        }
        let missing = try tempDir(iso: iso)
        defer { try? FileManager.default.removeItem(at: missing) }
        #expect {
            try ReferenceData.load(from: missing)
        } throws: { error in
            "\(error)".contains("postcodes.csv") && "\(error)".contains("cannot read")
        }
    }

    @Test func miniRegexAgreesWithNSRegularExpression() throws {
        let lines = try String(contentsOf: ReferenceData.locateDataDirectory()!.appendingPathComponent("postcodes.csv"),
                               encoding: .utf8).split(separator: "\n").dropFirst()
        let samples = ["94103", "94103-1234", "9410", "K1A 0B1", "K1A0B1", "SW1A 1AA", "W1 1AA", "EC1A 1BB", "D02 X285",
                       "1012 AB", "114 55", "00-001", "1000-001", "100-0001", "01310-100", "", "ABCDE", "12345 ",
                       "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "110001", "1234"]
        // Unquoted patterns may contain commas ("{1,2}"): country first, example last.
        var patterns = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().dropLast()
            .joined(separator: ",") }
        patterns += ["^(A|BC)+D?$", "[0-9]{2,}", "^\\d{3}-\\d{2}$", "^.x*$", "^[^0-9]+$",
                     // Unanchored, nullable, nested repeats, and one too large for the position automaton.
                     "B?C", "x*", "^x*", "(AB|A)(C|BCD)$", "^((A|B){1,2}C?){2}$", "1[0-9]{0,3}$", "^[A-Z0-9]{40,70}$",
                     "^[0-9]{3}-?[0-9]{2}-?[0-9]{4}$"]
        for p in patterns {
            let re = try NSRegularExpression(pattern: p)
            let pattern = try #require(RegexPattern(p))
            for s in samples + ["ABCBCD", "A", "D", "123", "12", "123-45", "1", "xx", "WXYZ", "ABC", "ABBC", "AAC",
                                "ABABC", "xBCx", "10", "912345", "123-45-6789", "123456789", "123-456789", "Zé",
                                String(repeating: "A", count: 45), String(repeating: "9", count: 71)] {
                let expected = re.firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) != nil
                #expect(pattern.matches(s) == expected, "pattern \(p) on '\(s)'")
            }
        }
    }

    @Test func patternsWithoutALinearMatcherAreRefused() throws {
        // Lookahead has no linear-time algorithm here: refused with a reason (RegexLinearTests has the rest).
        #expect(throws: RegexPatternError.self) { try RegexPattern(validating: "^(?=A)[A-Z]+$") }
        #expect(RegexPattern("^(?=A)[A-Z]+$") == nil)
        #expect(RegexPattern("^[A-Z") == nil)
    }
}

@Suite("Standardise: text and names")
struct StandardiseNameTests {
    @Test(arguments: [
        ("  jOHN   smith ", "John Smith"), ("JOHN SMITH", "John Smith"), ("john smith", "John Smith"),
        ("McDonald", "McDonald"), ("MCDONALD", "McDonald"), ("o'brien", "O'Brien"), ("O'BRIEN", "O'Brien"),
        ("jean-luc picard", "Jean-Luc Picard"), ("HANS VAN DER BERG", "Hans van der Berg"),
        ("Hans van der Berg", "Hans van der Berg"), ("\tMary\u{00A0}Ann\n", "Mary Ann"), ("JOHN SMITH III", "John Smith III"),
        ("ZOË", "Zoë"), ("josé garcía", "José García"), ("ANNE-MARIE  O’NEILL", "Anne-Marie O’Neill"), ("J.R.R. TOLKIEN", "J.R.R. Tolkien"),
        ("de la Cruz", "de la Cruz"), ("iPhone", "iPhone"), ("\u{FEFF}Smith", "Smith"), ("x", "X"),
        ("ŁUKASZ NOWAK-KOWALSKI", "Łukasz Nowak-Kowalski"), ("seán o'súilleabháin", "Seán O'Súilleabháin"),
        ("MCÉNROE", "McÉnroe"), ("françois\u{00A0}\u{00A0}MÜLLER", "françois MÜLLER"),  // mixed case is kept
    ])
    func names(raw: String, expected: String) {
        #expect(us.name(raw) == expected)
    }

    @Test(arguments: ["", "   ", "\t\n", "\u{00A0}\u{00A0}"])
    func emptyNames(raw: String) {
        #expect(us.name(raw) == nil)
        #expect(us.text(raw) == nil)
    }

    @Test func nameIsNFC() throws {
        let composed = "Zo\u{00EB}"
        let decomposed = "Zoe\u{0308}"
        let a = try #require(us.name(composed))
        let b = try #require(us.name("  " + decomposed + " "))
        // String == is canonical-equivalence; compare the scalars to prove NFC.
        #expect(Array(a.unicodeScalars) == Array(composed.unicodeScalars))
        #expect(Array(b.unicodeScalars) == Array(composed.unicodeScalars))
        let t = try #require(us.text("cafe\u{0301}"))
        #expect(Array(t.unicodeScalars) == Array("caf\u{00E9}".unicodeScalars))
    }

    @Test func text() {
        #expect(us.text("  a \t b\n\nc  ") == "a b c")
        #expect(us.text("MiXeD Case") == "MiXeD Case")
        #expect(us.text("a\u{2003}\u{00A0}b") == "a b")
    }

    @Test(arguments: [
        ("José García", "josegarcia"), ("Straße", "strasse"), ("Søren Ørsted", "sorenorsted"),
        ("O'Brien-Smith 3rd", "obriensmith3rd"), ("Zoe\u{0308}", "zoe"), ("ZOË", "zoe"), ("Łódź", "lodz"),
        ("  ", ""), ("Ærø", "aero"), ("ΩMEGA", "ωmega"),
    ])
    func normalizedKey(raw: String, expected: String) {
        #expect(us.normalizedKey(raw) == expected)
    }

    @Test(arguments: ["Main St", " Main St", "Main St ", "Main  St", "Main\tSt", "Zoë", "", "  ", "A", "12-34", "a\u{00A0}b"])
    func alreadyCleanASCIIIsReturnedAsIs(_ value: String) {
        // The shortcut must agree with the full path: the same result, and taken only when nothing changes.
        let full: String? = switch TextNormalizer.clean(value) {
        case .none: nil
        case .ascii(let b)?: String(decoding: b, as: UTF8.self)
        case .unicode(let u)?: u
        }
        #expect(TextNormalizer.cleanString(value) == full)
        #expect(TextNormalizer.isCleanASCII(value) == (full == value && value.utf8.allSatisfy { $0 < 0x80 }))
    }
}

@Suite("Standardise: email")
struct StandardiseEmailTests {
    @Test(arguments: [
        ("JOHN.DOE@EXAMPLE.COM ", "john.doe@example.com"), ("john@example.co.uk", "john@example.co.uk"),
        ("  first+tag@sub.example.org\t", "first+tag@sub.example.org"), ("<a@b.io>", "a@b.io"),
        ("mailto:Info@Example.com", "info@example.com"), ("o'hara@x-y.com", "o'hara@x-y.com"),
        ("ÉLODIE@EXEMPLE.FR", "élodie@exemple.fr"),
    ])
    func valid(raw: String, expected: String) {
        #expect(us.email(raw) == ok(expected))
    }

    @Test(arguments: [
        "john@@x.com", "john", "john@", "@x.com", "john@x", "john@x.", "john@.com", "john..doe@x.com",
        "john@x..com", "john doe@x.com", "john@x.c", ".john@x.com", "john.@x.com", "john@-x.com", "john@x.123",
        "a@b@c.com", "john@x_y.com",
    ])
    func invalid(raw: String) {
        #expect(us.email(raw) == err(.invalidEmail(raw)))
    }

    @Test func empty() {
        #expect(us.email("") == nil)
        #expect(us.email("   ") == nil)
    }
}

@Suite("Standardise: phone")
struct StandardisePhoneTests {
    @Test(arguments: [
        ("(415) 555-0123", nil, "+14155550123"), ("415.555.0123", nil, "+14155550123"),
        ("1-415-555-0123", nil, "+14155550123"), ("+1 415 555 0123", nil, "+14155550123"),
        ("415-555-0123 x123", nil, "+14155550123"), ("415-555-0123 ext. 123", nil, "+14155550123"),
        ("415 555 0123 #9", nil, "+14155550123"), ("tel:+1-415-555-0123", nil, "+14155550123"),
        ("011 44 20 7946 0958", nil, "+442079460958"),
        ("+44 20 7946 0958", nil, "+442079460958"), ("+44 (0)20 7946 0958", nil, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"), ("020 7946 0958", "United Kingdom", "+442079460958"),
        ("44 20 7946 0958", "GB", "+442079460958"),
        ("0049 30 123456", nil, "+4930123456"), ("030 123456", "DE", "+4930123456"),
        ("06 12 34 56 78", "FR", "+33612345678"), ("+33 6 12 34 56 78", "DE", "+33612345678"),
        ("02 1234 5678", "IT", "+390212345678"),  // Italy keeps the leading 0
        ("\u{00A0}(415)\u{00A0}555\u{2013}0123", nil, "+14155550123"),
    ] as [(String, String?, String)])
    func valid(raw: String, region: String?, expected: String) {
        #expect(us.phone(raw, region: region) == ok(expected))
    }

    @Test func defaultRegionGB() {
        #expect(gb.phone("07700 900123") == ok("+447700900123"))
        #expect(gb.phone("(415) 555-0123", region: "US") == ok("+14155550123"))
    }

    @Test(arguments: [
        ("555-0123", nil), ("415-555-01234", nil), ("+1 415 555 01", nil), ("call me", nil), ("N/A", nil),
        ("1-800-FLOWERS", nil), ("+44 20 7946 09581234", nil), ("++44 20 7946 0958", nil), ("415+555+0123", nil),
        ("0 20", "GB"), ("+999 1234 5678", nil), ("12 34", "AQ"),
    ] as [(String, String?)])
    func invalid(raw: String, region: String?) {
        #expect(us.phone(raw, region: region) == err(.invalidPhone(raw)))
    }

    @Test func empty() {
        #expect(us.phone("") == nil)
        #expect(us.phone(" \t ") == nil)
    }
}

@Suite("Standardise: dates and timestamps")
struct StandardiseDateTests {
    @Test func configuredFormatDecidesOrder() {
        #expect(dmy.date("03/04/2021") == ok("2021-04-03"))
        let mdy = Standardiser(reference: ref, defaultRegion: "US", dateFormats: ["%m/%d/%Y"])
        #expect(mdy.date("03/04/2021") == ok("2021-03-04"))
        // Falls back to the common forms when no configured format matches.
        #expect(dmy.date("2021-04-03") == ok("2021-04-03"))
        #expect(dmy.date("31/02/2021") == err(.invalidDate("31/02/2021")))
    }

    @Test(arguments: [
        (["%d/%m/%Y"], "3/4/2021", "2021-04-03"), (["%Y%m%d"], "20210312", "2021-03-12"),
        (["%d.%m.%Y"], "12.03.2021", "2021-03-12"), (["%b %d, %Y"], "Mar 12, 2021", "2021-03-12"),
        (["%B %d, %Y"], "march 12,   2021", "2021-03-12"), (["%d/%m/%y"], "03/04/21", "2021-04-03"),
        (["%d/%m/%y"], "03/04/75", "1975-04-03"),
        (["%d/%m/%y"], "03/04/49", "2049-04-03"), (["%d/%m/%y"], "03/04/50", "1950-04-03"), (["%d-%b-%Y"], "03-APR-2021", "2021-04-03"),
        (["%m/%d/%Y", "%d.%m.%Y"], "03.04.2021", "2021-04-03"), (["%d/%m/%Y"], "03/04/2021 10:30", "2021-04-03"),
        (["%d/%m/%Y %H:%M"], "03/04/2021 10:30", "2021-04-03"),
    ])
    func configured(formats: [String], raw: String, expected: String) {
        let s = Standardiser(reference: ref, defaultRegion: "US", dateFormats: formats)
        #expect(s.date(raw) == ok(expected))
    }

    @Test(arguments: [
        ("2021-03-12", "2021-03-12"), ("2021/03/12", "2021-03-12"), ("2021.3.2", "2021-03-02"), ("20210312", "2021-03-12"),
        ("12 Mar 2021", "2021-03-12"), ("12 March 2021", "2021-03-12"), ("March 12, 2021", "2021-03-12"),
        ("Mar 12 2021", "2021-03-12"), ("12-Mar-2021", "2021-03-12"), ("12th March 2021", "2021-03-12"),
        ("Friday, March 12, 2021", "2021-03-12"), ("Sept 1, 2021", "2021-09-01"), ("2021 Mar 12", "2021-03-12"),
        ("2021-03-12T10:00:00Z", "2021-03-12"), ("2021-03-12T23:30:00-05:00", "2021-03-12"),
        ("2021-03-12 10:00:00", "2021-03-12"), ("13/04/2021", "2021-04-13"), ("04/13/2021", "2021-04-13"),
        ("03/03/2021", "2021-03-03"), ("  2020-02-29 ", "2020-02-29"), ("1 Jan 1900", "1900-01-01"),
        ("25/12/99", "1999-12-25"),
    ])
    func common(raw: String, expected: String) {
        #expect(us.date(raw) == ok(expected))
    }

    @Test(arguments: ["03/04/2021", "3/4/2021", "03-04-2021", "12.03.2021", "01/02/03"])
    func ambiguous(raw: String) {
        #expect(us.date(raw) == err(.ambiguousDate(raw)))
    }

    @Test(arguments: [
        "2021-02-30", "2021-02-29", "2021-13-01", "2021-00-10", "2021-04-31", "32/01/2021", "13/13/2021",
        "1899-12-31", "2101-01-01", "0000-00-00", "hello", "2021-03", "12 Foo 2021", "2021-03-12 garbage",
        "2021-03-12T25:00:00Z", "20211312", "2021-03/12",
    ])
    func invalid(raw: String) {
        #expect(us.date(raw) == err(.invalidDate(raw)))
    }

    @Test func emptyDate() {
        #expect(us.date("") == nil)
        #expect(us.timestamp("  ") == nil)
    }

    @Test func ambiguousDescription() {
        // The problem, never the value: descriptions become quarantine reasons and run messages.
        #expect(StandardiseError.ambiguousDate("03/04/2021").description
                == "ambiguous date: day/month order unknown; list the format in date_formats")
        #expect(!StandardiseError.invalidEmail("john.secret@@example.com").description.contains("john.secret"))
        #expect(StandardiseError.invalidEmail("john.secret@@example.com").value == "john.secret@@example.com")
    }

    @Test(arguments: [
        ("2021-03-12", "2021-03-12T00:00:00Z"), ("2021-03-12 10:11:12", "2021-03-12T10:11:12Z"),
        ("2021-03-12T10:11:12Z", "2021-03-12T10:11:12Z"), ("2021-03-12T10:00:00+02:00", "2021-03-12T08:00:00Z"),
        ("2021-03-12T23:30:00-05:00", "2021-03-13T04:30:00Z"), ("2021-03-12T10:00:00.123Z", "2021-03-12T10:00:00Z"),
        ("2021-03-12T10:00:00+0530", "2021-03-12T04:30:00Z"), ("2021-01-01T00:30:00+01:00", "2020-12-31T23:30:00Z"),
        ("1615543200", "2021-03-12T10:00:00Z"), ("946684799", "1999-12-31T23:59:59Z"),
        ("1615543200000", "2021-03-12T10:00:00Z"), ("12 Mar 2021 10:00 pm", "2021-03-12T22:00:00Z"),
        ("12 Mar 2021 12:05 AM", "2021-03-12T00:05:00Z"), ("2021-03-12 10:00 UTC", "2021-03-12T10:00:00Z"),
        ("Fri, 12 Mar 2021 10:00:00 +0100", "2021-03-12T09:00:00Z"), ("20210312T101112Z", "2021-03-12T10:11:12Z"),
    ])
    func timestamps(raw: String, expected: String) {
        #expect(us.timestamp(raw) == ok(expected))
    }

    @Test(arguments: ["2021-03-12T24:00:00Z", "2021-03-12T10:60", "2021-03-12T10:00:00+25:00", "13 pm",
                      "2021-03-12 13:00 pm", "12345678901", "soon"])
    func invalidTimestamps(raw: String) {
        #expect(us.timestamp(raw) == err(.invalidDate(raw)))
    }

    @Test func timestampWithConfiguredFormat() {
        let s = Standardiser(reference: ref, defaultRegion: "GB", dateFormats: ["%d/%m/%Y %H:%M:%S %z"])
        #expect(s.timestamp("03/04/2021 10:00:00 +01:00") == ok("2021-04-03T09:00:00Z"))
        #expect(dmy.timestamp("03/04/2021 10:00") == ok("2021-04-03T10:00:00Z"))
        #expect(us.timestamp("03/04/2021 10:00") == err(.ambiguousDate("03/04/2021 10:00")))
    }

    @Test func validateDateFormat() {
        #expect(Standardiser.validateDateFormat("%d/%m/%Y") == nil)
        #expect(Standardiser.validateDateFormat("%Y-%Q-%d")?.contains("%Q") == true)
        #expect(Standardiser.validateDateFormat("%H:%M") != nil)
    }
}

@Suite("Standardise: postcode and country")
struct StandardisePostcodeTests {
    @Test(arguments: [
        ("sw1a1aa", "GB", "SW1A 1AA"), ("  sw1a   1aa ", "GB", "SW1A 1AA"), ("ec1a1bb", "United Kingdom", "EC1A 1BB"),
        ("w11aa", "GB", "W1 1AA"), ("2139", "US", "02139"), ("94103", "US", "94103"), ("941031234", "US", "94103-1234"),
        ("94103-1234", "US", "94103-1234"), ("2139-1234", "US", "02139-1234"), ("k1a0b1", "CA", "K1A 0B1"),
        ("d02x285", "IE", "D02 X285"), ("1012ab", "NL", "1012 AB"), ("11455", "SE", "114 55"), ("10115", "DE", "10115"),
        ("1067", "DE", "01067"), ("00001", "PL", "00-001"), ("1000001", "PT", "1000-001"), ("1000001", "JP", "100-0001"),
        ("2000", "AU", "2000"), ("abc 123", "Narnia", "ABC 123"), ("12345", "AR", "12345"), ("94103", nil, "94103"),
    ] as [(String, String?, String)])
    func valid(raw: String, country: String?, expected: String) {
        #expect(us.postcode(raw, country: country) == ok(expected))
    }

    @Test(arguments: [
        ("ABCDE", "US"), ("123", "US"), ("1234567", "US"), ("SW1A", "GB"), ("12345", "GB"), ("123", "DE"),
        ("ABC", "CA"), ("123456", "FR"), ("ABCDE", nil),
    ] as [(String, String?)])
    func invalid(raw: String, country: String?) {
        #expect(us.postcode(raw, country: country) == err(.invalidPostcode(raw)))
    }

    @Test func defaultCountryAndEmpty() {
        #expect(gb.postcode("sw1a1aa", country: nil) == ok("SW1A 1AA"))
        #expect(gb.postcode("sw1a1aa", country: "") == ok("SW1A 1AA"))
        #expect(us.postcode("  ", country: "US") == nil)
    }

    @Test(arguments: [("usa", "US"), ("United Kingdom", "GB"), ("uk", "GB"), ("DEU", "DE"), ("276", "DE"),
                      (" u.s.a. ", "US")])
    func country(raw: String, expected: String) {
        #expect(us.country(raw) == ok(expected))
    }

    @Test func unknownCountry() {
        #expect(us.country("Narnia") == err(.unknownCountry("Narnia")))
        #expect(us.country("") == nil)
        #expect(StandardiseError.unknownCountry("Narnia").code == "unknown_country")
    }

    @Test func defaultRegionResolvedFromName() {
        let s = Standardiser(reference: ref, defaultRegion: "United Kingdom")
        #expect(s.defaultRegion == "GB")
        #expect(s.phone("020 7946 0958") == ok("+442079460958"))
    }
}
