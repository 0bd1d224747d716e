import Foundation
import Testing
@testable import StewardIdentity
@testable import StewardPipeline

@Suite struct IdentityComparatorTests {
    @Test func jaroWinklerKnownValues() {
        #expect(abs(Compare.jaroWinkler("martha", "marhta") - 0.9611) < 0.0001)
        #expect(abs(Compare.jaroWinkler("dwayne", "duane") - 0.84) < 0.0001)
        #expect(abs(Compare.jaroWinkler("dixon", "dicksonx") - 0.8133) < 0.0001)
        #expect(Compare.jaroWinkler("smith", "smith") == 1)
        #expect(Compare.jaroWinkler("abc", "xyz") == 0)
        #expect(Compare.jaroWinkler("", "") == 1)
    }

    @Test func damerauLevenshteinKnownValues() {
        #expect(Compare.damerauLevenshtein("kitten", "sitting") == 3)
        #expect(Compare.damerauLevenshtein("smith", "smtih") == 1)
        #expect(Compare.damerauLevenshtein("ca", "abc") == 3)  // optimal string alignment
        #expect(Compare.damerauLevenshtein("", "abc") == 3)
        #expect(Compare.damerauLevenshtein("same", "same") == 0)
    }

    @Test func nysiisKnownValues() {
        #expect(Compare.nysiis("macintosh") == "MCANT")
        #expect(Compare.nysiis("knight") == Compare.nysiis("night"))
        #expect(Compare.nysiis("catherine") == Compare.nysiis("katherine"))
        #expect(Compare.nysiis("brown") == Compare.nysiis("browne"))
        #expect(Compare.nysiis("johnson") != Compare.nysiis("williams"))
        #expect(Compare.nysiis("") == "")
    }

    @Test func datesAgreeByTranspositionEditOrYear() {
        #expect(Compare.dates("1980-03-07", "1980-03-07") == .exact)
        #expect(Compare.dates("1980-03-07", "1980-07-03") == .transposed)
        #expect(Compare.dates("1980-03-07", "1980-03-08") == .oneEdit)
        #expect(Compare.dates("1980-03-07", "1980-11-21") == .yearOnly)
        #expect(Compare.dates("1980-03-07", "1975-11-21") == .different)
    }

    @Test func numbersNearForPostcodesAndHouseNumbers() {
        #expect(Compare.numericNear("10115", "10117", tolerance: 2))
        #expect(!Compare.numericNear("10115", "10118", tolerance: 2))
        #expect(!Compare.numericNear("SW1A", "SW1B", tolerance: 2))
        #expect(Compare.houseNumber(Array("12boakroad".utf8)) == 12)
        #expect(Compare.houseNumber(Array("oakroad".utf8)) == nil)
    }

    @Test func nicknamesFromTheShippedList() {
        let n = Nicknames.load(from: ReferenceData.locateDataDirectory())
        #expect(!n.isEmpty)
        #expect(n.equivalent("bob", "robert"))
        #expect(n.equivalent("liz", "elizabeth"))
        #expect(n.equivalent("bobby", "bob"))  // two nicknames of one name
        #expect(!n.equivalent("bob", "william"))
        #expect(n.canonical("bill") == "william")
    }

    @Test func missingValuesAreNeutralAndIdentifiersExact() {
        let n = Nicknames(pairs: [("robert", "bob")])
        let a = PersonRecord(source: "s", key: "1", firstName: "Bob", lastName: "Smith", email: "b@x.com", phone: "+15551234567",
                             nationalId: "123-45-6789", nicknames: n)
        let b = PersonRecord(source: "t", key: "2", firstName: "Robert", lastName: "Smith", email: nil, phone: "+15551234567",
                             nationalId: "123456789", nicknames: n)
        let v = Comparator(nicknames: n).compare(a, b)
        #expect(v.levels[Field.firstName.rawValue] == 3)  // nickname
        #expect(v.levels[Field.lastName.rawValue] == 3)   // exact
        #expect(v.levels[Field.email.rawValue] == -1)     // missing: neutral
        #expect(v.levels[Field.phone.rawValue] == 2)
        #expect(v.levels[Field.nationalId.rawValue] == 2) // formatting ignored
        #expect(v.levels[Field.dob.rawValue] == -1)
    }

    @Test func emailsDifferingOnlyInDigitsOrPunctuationAreTwoAccounts() {
        #expect(Compare.sameLetters(Array("john.smith2@x.com".utf8), Array("john.smith@x.com".utf8)))
        #expect(Compare.sameLetters(Array("js12@x".utf8), Array("js13@x".utf8)))
        #expect(Compare.sameLetters(Array("john_smith@x".utf8), Array("johnsmith@x".utf8)))
        #expect(!Compare.sameLetters(Array("jsmith2@x".utf8), Array("jsmiht2@x".utf8)))
        #expect(!Compare.sameLetters(Array("jsmith@x".utf8), Array("jsmith@xy".utf8)))
        let n = Nicknames(pairs: [])
        func person(_ key: String, _ email: String) -> PersonRecord {
            PersonRecord(source: "s", key: key, firstName: "John", lastName: "Smith", email: email, nicknames: n)
        }
        let c = Comparator(nicknames: n)
        let base = person("1", "john.smith@gmail.com")
        // The provider's next john.smith: a namesake, not a typo.
        #expect(c.compare(base, person("2", "john.smith2@gmail.com")).levels[Field.email.rawValue] == 0)
        #expect(c.compare(person("3", "john.smith2@gmail.com"), person("4", "john.smith3@gmail.com")).levels[Field.email.rawValue] == 0)
        #expect(c.compare(base, person("7", "johnsmith@gmail.com")).levels[Field.email.rawValue] == 0)
        #expect(c.compare(person("8", "john.smith2@gmail.com"), person("9", "john.smith2@yahoo.com")).levels[Field.email.rawValue] == 0)
        // A letter typo still counts as near.
        #expect(c.compare(base, person("5", "john.smtih@gmail.com")).levels[Field.email.rawValue] == 1)
        #expect(c.compare(base, person("6", "john.smith@gmial.com")).levels[Field.email.rawValue] == 1)
    }

    @Test func swappedNamesAndLastFirstFullNames() {
        let n = Nicknames(pairs: [])
        let a = PersonRecord(source: "s", key: "1", firstName: "Ann", lastName: "Lee", nicknames: n)
        let b = PersonRecord(source: "t", key: "2", firstName: "Lee", lastName: "Ann", nicknames: n)
        let v = Comparator(nicknames: n).compare(a, b)
        #expect(v.swappedNames)
        #expect(v.levels[Field.firstName.rawValue] == 4)
        let c = PersonRecord(source: "t", key: "3", firstName: nil, lastName: nil, fullName: "Lee, Ann", nicknames: n)
        #expect(c.first == Array("ann".utf8) && c.last == Array("lee".utf8))
    }

    @Test func placeholderIdentifiersAreDetectedByFrequency() {
        let n = Nicknames(pairs: [])
        var records = (0..<8).map { i in
            PersonRecord(source: "s", key: "\(i)", firstName: ["Ann", "Bob", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"][i],
                         lastName: ["Lee", "Ray", "Fox", "Poe", "Day", "Orr", "Kim", "Ng"][i], email: "noemail@example.com", nicknames: n)
        }
        // One real person with the same email five times is not junk.
        records += (0..<5).map { PersonRecord(source: "t", key: "\($0)", firstName: "Zed", lastName: "Zyszkowski", email: "zed@z.pl", nicknames: n) }
        let junk = JunkDetector.detect(records)
        #expect(junk.map(\.0.text) == ["noemail@example.com"])
        let v = Comparator(nicknames: n, junk: Set(junk.map(\.0))).compare(records[0], records[1])
        #expect(v.levels[Field.email.rawValue] == -1)
    }
}

/// The lookup's query shapes: one misspelt word is loosened while the others stay exact.
@Suite struct CustomerSearchQueryTests {
    @Test func aMisspeltWordIsLoosenedOneAtATimeWithTheOthersExact() throws {
        let variants = CustomerSearch.oneWordLooseQueries("Megan Paetl")
        #expect(variants.count == 2)
        // Second word loosened: first two letters or its sound, while "megan" stays a required word.
        let second = try #require(variants.last)
        // "megan" is followed by another word: typed whole, it matches the whole name only.
        #expect(second.hasPrefix("(names:megan)"))
        #expect(!second.contains("emails:megan"))
        #expect(second.contains(" AND (names:pa* OR sounds:\(Compare.nysiis("paetl").lowercased())"))
        // Emails and single words are left to the exact and loose queries.
        #expect(CustomerSearch.oneWordLooseQueries("megan@example.com Patel").isEmpty)
        #expect(CustomerSearch.oneWordLooseQueries("Paetl").isEmpty)
        // The last word may be half typed: it stays a prefix.
        #expect(try #require(CustomerSearch.oneWordLooseQueries("Paetl Meg").first).hasPrefix("(names:meg*"))
    }

    @Test func wordsFollowedByAnotherMatchWholeTermsAndTheLastWordAndShortWordsMatchPrefixes() throws {
        // One column set per word: a prefix is expanded once, not once per column.
        let johnSmi = try #require(CustomerSearch.ftsQuery("John Smi"))
        #expect(johnSmi.hasPrefix("({names ids postcodes emails}:john OR "))
        #expect(!johnSmi.contains("john*") && !johnSmi.contains("emails:john"))
        #expect(johnSmi.contains(" AND ({names ids postcodes emails}:smi* OR "))
        #expect(try #require(CustomerSearch.ftsQuery("Jo Smith")).hasPrefix("({names ids postcodes emails}:jo* OR "))
        // A two-part postcode: the first part whole, the last a prefix; no sounds for words with digits.
        #expect(CustomerSearch.ftsQuery("Smith SW1A 1AA")?.hasSuffix(" AND ({names ids postcodes emails}:sw1a) AND ({names ids postcodes emails}:1aa*)") == true)
        #expect(CustomerSearch.ftsQuery("(313) 635-7273") == "phones:(\"p3727536313\"* OR \"3136357273\")")
        #expect(CustomerSearch.ftsQuery("jo@example.com") == "emails:\"jo example com\"*")
    }
}
