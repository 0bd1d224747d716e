/// The name, place and wording lists the demo population is drawn from, most common first.
enum DemoReference {
    static let countryCodes = ["US", "GB", "DE"]

    // MARK: First names (index 2 * country + (female ? 1 : 0))

    static let firstNames: [[String]] = [
        // US male
        ["John", "James", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles",
         "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul", "Andrew", "Joshua",
         "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Edward", "Jason", "Jeffrey", "Ryan",
         "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry", "Justin", "Scott", "Brandon",
         "Benjamin", "Samuel", "Gregory", "Alexander", "Frank", "Patrick", "Raymond", "Jack", "Dennis", "Jerry",
         "Tyler", "Aaron", "José", "Adam", "Nathan", "Henry", "Douglas", "Zachary", "Peter", "Kyle",
         "Walter", "Ethan", "Jeremy", "Harold", "Keith", "Christian", "Roger", "Noah", "Gerald", "Carl",
         "Terry", "Sean", "Austin", "Arthur", "Lawrence", "Jesse", "Dylan", "Bryan", "Jordan", "Bruce",
         "Albert", "Gabriel", "Logan", "Alan", "Juan", "Wayne", "Roy", "Ralph", "Randolph", "Eugene",
         "Vincent", "Russell", "Elijah", "Louis", "Philip", "André", "Luis", "Carlos", "Frederick", "Theodore"],
        // US female
        ["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
         "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily", "Donna", "Michelle",
         "Carol", "Amanda", "Dorothy", "Melissa", "Deborah", "Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia",
         "Kathleen", "Amy", "Angela", "Shirley", "Anna", "Brenda", "Pamela", "Emma", "Nicole", "Helen",
         "Samantha", "Katherine", "Christine", "Debra", "Rachel", "Carolyn", "Janet", "Catherine", "Maria", "Heather",
         "Diane", "Ruth", "Julie", "Olivia", "Joyce", "Virginia", "Victoria", "Kelly", "Lauren", "Christina",
         "Joan", "Evelyn", "Judith", "Megan", "Andrea", "Cheryl", "Hannah", "Jacqueline", "Martha", "Gloria",
         "Theresa", "Ann", "Sara", "Madison", "Frances", "Kathryn", "Janice", "Jean", "Abigail", "Alice",
         "Judy", "Sophia", "Grace", "Denise", "Amber", "Doris", "Marilyn", "Danielle", "Beverly", "Isabella",
         "Natalie", "Charlotte", "Alexandra", "Penelope", "Eleanor", "Zoë", "Renée", "Chloé", "María", "Sofía"],
        // GB male
        ["John", "David", "Oliver", "George", "Harry", "Jack", "James", "Thomas", "William", "Charlie",
         "Oscar", "Jacob", "Noah", "Leo", "Alfie", "Henry", "Joshua", "Frederick", "Archie", "Ethan",
         "Isaac", "Alexander", "Joseph", "Edward", "Samuel", "Max", "Daniel", "Arthur", "Lucas", "Mohammed",
         "Theodore", "Harrison", "Benjamin", "Mason", "Sebastian", "Finley", "Adam", "Dylan", "Zachary", "Riley",
         "Toby", "Jake", "Elijah", "Reuben", "Matthew", "Nathan", "Luke", "Christopher", "Michael", "Richard",
         "Peter", "Stephen", "Robert", "Andrew", "Mark", "Paul", "Ian", "Gareth", "Nigel", "Graham",
         "Colin", "Alan", "Keith", "Patrick", "Philip", "Anthony", "Simon", "Timothy", "Nicholas", "Francis"],
        // GB female
        ["Sarah", "Olivia", "Amelia", "Isla", "Ava", "Emily", "Isabella", "Mia", "Poppy", "Ella",
         "Lily", "Jessica", "Sophie", "Grace", "Evie", "Charlotte", "Freya", "Sophia", "Alice", "Florence",
         "Ruby", "Chloe", "Phoebe", "Matilda", "Eleanor", "Emma", "Rebecca", "Laura", "Hannah", "Lucy",
         "Katherine", "Elizabeth", "Victoria", "Margaret", "Helen", "Susan", "Alison", "Claire", "Joanne", "Nicola",
         "Gemma", "Siobhan", "Fiona", "Zoë", "Abigail", "Rosemary", "Penelope", "Josephine", "Frances", "Deborah"],
        // DE male
        ["Thomas", "Michael", "Andreas", "Stefan", "Christian", "Peter", "Markus", "Frank", "Alexander", "Martin",
         "Klaus", "Jürgen", "Wolfgang", "Daniel", "Matthias", "Sebastian", "Tobias", "Florian", "Jan", "Jörg",
         "Uwe", "Dirk", "Sven", "Lukas", "Maximilian", "Johannes", "Felix", "Jonas", "Paul", "Leon",
         "Björn", "Günter", "Dieter", "Friedrich", "Hans", "Karl", "Bernd", "Ralf", "Holger", "Torsten"],
        // DE female
        ["Sabine", "Susanne", "Petra", "Andrea", "Claudia", "Monika", "Stefanie", "Julia", "Anna", "Katharina",
         "Nicole", "Birgit", "Ute", "Sandra", "Christina", "Laura", "Lena", "Lea", "Sarah", "Hannah",
         "Marie", "Sophie", "Jana", "Anja", "Heike", "Gabriele", "Elisabeth", "Margarete", "Jutta", "Renate",
         "Ursula", "Brigitte", "Käthe", "Annelie", "Doris", "Martina", "Silke", "Kerstin", "Franziska", "Jülide"],
    ]

    // MARK: Last names (index = country)

    static let lastNames: [[String]] = [
        ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
         "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
         "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
         "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
         "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
         "Gómez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
         "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
         "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
         "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
         "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "O'Brien",
         "O'Connor", "McDonald", "Núñez", "Peña", "Schultz", "Novak", "Kowalski", "Fitzgerald", "Sullivan", "Hayes"],
        ["Smith", "Jones", "Taylor", "Williams", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Roberts",
         "Johnson", "Lewis", "Walker", "Robinson", "Wood", "Thompson", "White", "Watson", "Jackson", "Wright",
         "Green", "Harris", "Cooper", "King", "Lee", "Martin", "Clarke", "James", "Morgan", "Hughes",
         "Edwards", "Hill", "Moore", "Clark", "Harrison", "Scott", "Young", "Morris", "Hall", "Ward",
         "Turner", "Carter", "Phillips", "Mitchell", "Patel", "Adams", "Campbell", "Anderson", "Allen", "Cook",
         "Bailey", "Parker", "Miller", "Davis", "Murphy", "Price", "Bell", "Baker", "Griffiths", "Kelly",
         "Simpson", "Marshall", "Collins", "Bennett", "Cox", "Richardson", "Fox", "Gray", "Rose", "Chapman",
         "Hunt", "Robertson", "Shaw", "Reynolds", "Lloyd", "Ellis", "Richards", "Russell", "Wilkinson", "Khan",
         "Graham", "Stewart", "Reid", "Murray", "Powell", "Palmer", "Holmes", "Rogers", "Stevens", "Walsh",
         "Hunter", "Thomson", "Matthews", "Ross", "Owen", "Mason", "Knight", "Kennedy", "Butler", "O'Neill"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
         "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
         "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
         "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
         "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
         "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
         "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
         "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich"],
    ]

    /// East Asian names: romanised given name, romanised family name, native given, native family.
    /// The CRM (fed by a sales team that copies names from business cards) sometimes holds the native
    /// script; every other system the romanised form.
    static let eastAsianNames: [(String, String, String, String)] = [
        ("Wei", "Wang", "伟", "王"), ("Fang", "Li", "芳", "李"), ("Min", "Zhang", "敏", "张"),
        ("Jing", "Liu", "静", "刘"), ("Lei", "Chen", "磊", "陈"), ("Yang", "Huang", "洋", "黄"),
        ("Yuki", "Tanaka", "由紀", "田中"), ("Haruto", "Sato", "陽翔", "佐藤"), ("Aiko", "Suzuki", "愛子", "鈴木"),
        ("Kenji", "Takahashi", "健二", "高橋"), ("Ji-woo", "Kim", "지우", "김"), ("Min-jun", "Park", "민준", "박"),
        ("Seo-yeon", "Lee", "서연", "이"), ("Hui", "Zhao", "慧", "赵"),
    ]

    // MARK: Places

    struct City {
        let name: String
        let region: String
        /// US: 3-digit ZIP prefix; DE: 2-digit PLZ prefix; GB: unused (see `outward`).
        let postcodePrefix: Int
        /// GB outward codes.
        let outward: [String]
        /// Dialling area code without trunk prefix ("415", "20", "89").
        let areaCode: String
    }

    static let cities: [[City]] = [
        [
            City(name: "New York", region: "NY", postcodePrefix: 100, outward: [], areaCode: "212"),
            City(name: "Los Angeles", region: "CA", postcodePrefix: 900, outward: [], areaCode: "213"),
            City(name: "Chicago", region: "IL", postcodePrefix: 606, outward: [], areaCode: "312"),
            City(name: "Houston", region: "TX", postcodePrefix: 770, outward: [], areaCode: "713"),
            City(name: "Phoenix", region: "AZ", postcodePrefix: 850, outward: [], areaCode: "602"),
            City(name: "Philadelphia", region: "PA", postcodePrefix: 191, outward: [], areaCode: "215"),
            City(name: "San Antonio", region: "TX", postcodePrefix: 782, outward: [], areaCode: "210"),
            City(name: "San Diego", region: "CA", postcodePrefix: 921, outward: [], areaCode: "619"),
            City(name: "Dallas", region: "TX", postcodePrefix: 752, outward: [], areaCode: "214"),
            City(name: "San Jose", region: "CA", postcodePrefix: 951, outward: [], areaCode: "408"),
            City(name: "Austin", region: "TX", postcodePrefix: 787, outward: [], areaCode: "512"),
            City(name: "San Francisco", region: "CA", postcodePrefix: 941, outward: [], areaCode: "415"),
            City(name: "Seattle", region: "WA", postcodePrefix: 981, outward: [], areaCode: "206"),
            City(name: "Denver", region: "CO", postcodePrefix: 802, outward: [], areaCode: "303"),
            City(name: "Boston", region: "MA", postcodePrefix: 21, outward: [], areaCode: "617"),
            City(name: "Brooklyn", region: "NY", postcodePrefix: 112, outward: [], areaCode: "718"),
            City(name: "Atlanta", region: "GA", postcodePrefix: 303, outward: [], areaCode: "404"),
            City(name: "Miami", region: "FL", postcodePrefix: 331, outward: [], areaCode: "305"),
            City(name: "Orlando", region: "FL", postcodePrefix: 328, outward: [], areaCode: "407"),
            City(name: "Tampa", region: "FL", postcodePrefix: 336, outward: [], areaCode: "813"),
            City(name: "Portland", region: "OR", postcodePrefix: 972, outward: [], areaCode: "503"),
            City(name: "Detroit", region: "MI", postcodePrefix: 482, outward: [], areaCode: "313"),
            City(name: "Minneapolis", region: "MN", postcodePrefix: 554, outward: [], areaCode: "612"),
            City(name: "St. Louis", region: "MO", postcodePrefix: 631, outward: [], areaCode: "314"),
            City(name: "Nashville", region: "TN", postcodePrefix: 372, outward: [], areaCode: "615"),
            City(name: "Charlotte", region: "NC", postcodePrefix: 282, outward: [], areaCode: "704"),
            City(name: "Columbus", region: "OH", postcodePrefix: 432, outward: [], areaCode: "614"),
            City(name: "Cleveland", region: "OH", postcodePrefix: 441, outward: [], areaCode: "216"),
            City(name: "Las Vegas", region: "NV", postcodePrefix: 891, outward: [], areaCode: "702"),
            City(name: "Salt Lake City", region: "UT", postcodePrefix: 841, outward: [], areaCode: "801"),
            City(name: "Baltimore", region: "MD", postcodePrefix: 212, outward: [], areaCode: "410"),
            City(name: "Washington", region: "DC", postcodePrefix: 200, outward: [], areaCode: "202"),
            City(name: "Kansas City", region: "MO", postcodePrefix: 641, outward: [], areaCode: "816"),
            City(name: "Milwaukee", region: "WI", postcodePrefix: 532, outward: [], areaCode: "414"),
            City(name: "New Orleans", region: "LA", postcodePrefix: 701, outward: [], areaCode: "504"),
            City(name: "Indianapolis", region: "IN", postcodePrefix: 462, outward: [], areaCode: "317"),
            City(name: "Sacramento", region: "CA", postcodePrefix: 958, outward: [], areaCode: "916"),
            City(name: "Raleigh", region: "NC", postcodePrefix: 276, outward: [], areaCode: "919"),
            City(name: "Springfield", region: "IL", postcodePrefix: 627, outward: [], areaCode: "217"),
            City(name: "Springfield", region: "MA", postcodePrefix: 11, outward: [], areaCode: "413"),
        ],
        [
            City(name: "London", region: "Greater London", postcodePrefix: 0,
                 outward: ["SW1A", "SW11", "E1", "E14", "N1", "N16", "SE1", "SE15", "W1D", "W11", "NW3", "EC1V", "WC2H"],
                 areaCode: "20"),
            City(name: "Manchester", region: "Greater Manchester", postcodePrefix: 0,
                 outward: ["M1", "M4", "M14", "M20"], areaCode: "161"),
            City(name: "Birmingham", region: "West Midlands", postcodePrefix: 0,
                 outward: ["B1", "B5", "B15", "B29"], areaCode: "121"),
            City(name: "Leeds", region: "West Yorkshire", postcodePrefix: 0,
                 outward: ["LS1", "LS6", "LS8"], areaCode: "113"),
            City(name: "Glasgow", region: "Scotland", postcodePrefix: 0,
                 outward: ["G1", "G3", "G12"], areaCode: "141"),
            City(name: "Edinburgh", region: "Scotland", postcodePrefix: 0,
                 outward: ["EH1", "EH3", "EH9"], areaCode: "131"),
            City(name: "Bristol", region: "Avon", postcodePrefix: 0,
                 outward: ["BS1", "BS6", "BS8"], areaCode: "117"),
            City(name: "Liverpool", region: "Merseyside", postcodePrefix: 0,
                 outward: ["L1", "L8", "L17"], areaCode: "151"),
            City(name: "Sheffield", region: "South Yorkshire", postcodePrefix: 0,
                 outward: ["S1", "S10", "S11"], areaCode: "114"),
            City(name: "Cardiff", region: "Wales", postcodePrefix: 0,
                 outward: ["CF10", "CF11", "CF24"], areaCode: "29"),
            City(name: "Newcastle upon Tyne", region: "Tyne and Wear", postcodePrefix: 0,
                 outward: ["NE1", "NE2", "NE6"], areaCode: "191"),
            City(name: "Nottingham", region: "Nottinghamshire", postcodePrefix: 0,
                 outward: ["NG1", "NG5", "NG7"], areaCode: "115"),
            City(name: "Oxford", region: "Oxfordshire", postcodePrefix: 0,
                 outward: ["OX1", "OX2", "OX4"], areaCode: "1865"),
            City(name: "Cambridge", region: "Cambridgeshire", postcodePrefix: 0,
                 outward: ["CB1", "CB2", "CB4"], areaCode: "1223"),
            City(name: "Brighton", region: "East Sussex", postcodePrefix: 0,
                 outward: ["BN1", "BN2", "BN3"], areaCode: "1273"),
        ],
        [
            City(name: "Berlin", region: "Berlin", postcodePrefix: 10, outward: [], areaCode: "30"),
            City(name: "Hamburg", region: "Hamburg", postcodePrefix: 22, outward: [], areaCode: "40"),
            City(name: "München", region: "Bayern", postcodePrefix: 80, outward: [], areaCode: "89"),
            City(name: "Köln", region: "Nordrhein-Westfalen", postcodePrefix: 50, outward: [], areaCode: "221"),
            City(name: "Frankfurt am Main", region: "Hessen", postcodePrefix: 60, outward: [], areaCode: "69"),
            City(name: "Stuttgart", region: "Baden-Württemberg", postcodePrefix: 70, outward: [], areaCode: "711"),
            City(name: "Düsseldorf", region: "Nordrhein-Westfalen", postcodePrefix: 40, outward: [], areaCode: "211"),
            City(name: "Leipzig", region: "Sachsen", postcodePrefix: 4, outward: [], areaCode: "341"),
            City(name: "Dortmund", region: "Nordrhein-Westfalen", postcodePrefix: 44, outward: [], areaCode: "231"),
            City(name: "Essen", region: "Nordrhein-Westfalen", postcodePrefix: 45, outward: [], areaCode: "201"),
            City(name: "Bremen", region: "Bremen", postcodePrefix: 28, outward: [], areaCode: "421"),
            City(name: "Dresden", region: "Sachsen", postcodePrefix: 1, outward: [], areaCode: "351"),
            City(name: "Hannover", region: "Niedersachsen", postcodePrefix: 30, outward: [], areaCode: "511"),
            City(name: "Nürnberg", region: "Bayern", postcodePrefix: 90, outward: [], areaCode: "911"),
        ],
    ]

    /// Street names: (short form, long form). Systems disagree on abbreviations.
    static let streets: [[(String, String)]] = [
        [("Main St", "Main Street"), ("Oak Ave", "Oak Avenue"), ("Maple Ave", "Maple Avenue"),
         ("Cedar St", "Cedar Street"), ("Elm St", "Elm Street"), ("Pine St", "Pine Street"),
         ("Washington Ave", "Washington Avenue"), ("Lake St", "Lake Street"), ("Hill Rd", "Hill Road"),
         ("Park Ave", "Park Avenue"), ("2nd St", "Second Street"), ("3rd Ave", "Third Avenue"),
         ("Sunset Blvd", "Sunset Boulevard"), ("Lincoln Ave", "Lincoln Avenue"), ("Jefferson St", "Jefferson Street"),
         ("Highland Ave", "Highland Avenue"), ("Madison Ave", "Madison Avenue"), ("Church St", "Church Street"),
         ("Walnut St", "Walnut Street"), ("Chestnut St", "Chestnut Street"), ("Spring St", "Spring Street"),
         ("Ridge Rd", "Ridge Road"), ("Broadway", "Broadway"), ("Market St", "Market Street"),
         ("River Rd", "River Road"), ("Mill St", "Mill Street"), ("Franklin St", "Franklin Street"),
         ("Center St", "Center Street"), ("Forest Dr", "Forest Drive"), ("Meadow Ln", "Meadow Lane"),
         ("Sycamore Ct", "Sycamore Court"), ("Willow Way", "Willow Way"), ("Valley View Dr", "Valley View Drive"),
         ("Martin Luther King Jr Blvd", "Martin Luther King Jr Boulevard"), ("Peachtree St NE", "Peachtree Street NE")],
        [("High St", "High Street"), ("Station Rd", "Station Road"), ("Church Ln", "Church Lane"),
         ("Victoria Rd", "Victoria Road"), ("Green Ln", "Green Lane"), ("Manor Rd", "Manor Road"),
         ("Park Rd", "Park Road"), ("Queens Rd", "Queens Road"), ("Kings Rd", "Kings Road"),
         ("Mill Ln", "Mill Lane"), ("The Crescent", "The Crescent"), ("London Rd", "London Road"),
         ("Albert Rd", "Albert Road"), ("New Rd", "New Road"), ("Grange Rd", "Grange Road"),
         ("Windsor Rd", "Windsor Road"), ("York Rd", "York Road"), ("Springfield Rd", "Springfield Road"),
         ("Church St", "Church Street"), ("North St", "North Street"), ("Elm Gr", "Elm Grove"),
         ("Highfield Ave", "Highfield Avenue")],
        [("Hauptstr.", "Hauptstraße"), ("Schulstr.", "Schulstraße"), ("Gartenstr.", "Gartenstraße"),
         ("Bahnhofstr.", "Bahnhofstraße"), ("Dorfstr.", "Dorfstraße"), ("Bergstr.", "Bergstraße"),
         ("Birkenweg", "Birkenweg"), ("Lindenstr.", "Lindenstraße"), ("Kirchstr.", "Kirchstraße"),
         ("Waldstr.", "Waldstraße"), ("Ringstr.", "Ringstraße"), ("Schillerstr.", "Schillerstraße"),
         ("Goethestr.", "Goethestraße"), ("Mühlenweg", "Mühlenweg"), ("Am Markt", "Am Markt"),
         ("Rosenstr.", "Rosenstraße"), ("Friedrichstr.", "Friedrichstraße"), ("Kastanienallee", "Kastanienallee")],
    ]

    // MARK: E-mail

    /// Mail domains and, per country, the indexes people there use (most common first).
    static let mailDomains = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
                              "comcast.net", "att.net", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com",
                              "sky.com", "gmx.de", "web.de", "t-online.de", "yahoo.de", "outlook.de",
                              "proton.me"]
    static let domainsByCountry: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 17],
        [0, 8, 2, 9, 10, 11, 4, 17],
        [12, 13, 0, 14, 15, 16, 17],
    ]

    /// Employers, for the work addresses some CRM contacts carry.
    static let companies = ["initech.com", "globex.com", "hooli.com", "vandelay.com", "acme-corp.com",
                            "umbrella-inc.com", "soylent.com", "wonka.com", "gringotts.co.uk", "cyberdyne.com",
                            "wayne-enterprises.com", "stark-industries.com", "tyrell.com", "oscorp.com",
                            "massive-dynamic.com", "dunder-mifflin.com", "piedpiper.com", "aperture-labs.com",
                            "blue-sun.com", "weyland-yutani.com", "nakatomi.com", "monarch-solutions.com",
                            "sterling-cooper.com", "bluth-company.com", "prestige-worldwide.com",
                            "krusty-krab.com", "los-pollos.com", "sirius-cybernetics.com", "octan.de",
                            "zorg-industries.de"]

    // MARK: Free text

    static let crmNotes = [
        "Prefers email, not phone", "VIP customer", "Met at trade show, Chicago",
        "Asked about bulk pricing, follow up in Q3", "Do not call before 10am", "Referred by existing client",
        "Interested in premium plan, budget approval pending", "Spouse also a customer", "Moved recently, confirm address",
        "Complained about delivery delays, resolved", "Large order expected, \"urgent\" flag set",
        "Speaks German, English ok", "Newsletter subscriber; opted out of SMS",
    ]
    static let crmMultilineNotes = [
        "Call notes:\nwants a callback next week", "VIP customer.\nCall before 5pm, ask for accounts",
        "Address change requested\nold: see previous record",
    ]

    static let ticketCategories = ["billing", "shipping", "returns", "account", "product", "technical"]
    static let ticketPriorities = ["low", "normal", "normal", "normal", "high", "urgent"]
    static let ticketStatuses = ["open", "pending", "solved", "closed", "closed", "closed"]
    static let ticketSubjects = [
        "Where is my order?", "Refund not received", "Wrong size, need exchange", "Cannot log in",
        "Charged twice", "Item arrived damaged", "Change delivery address", "Question about warranty",
        "Discount code not working", "Cancel my subscription", "Update payment method, card expired",
        "Package marked delivered, not received", "How do I return an item?",
    ]

    static let orderStatuses = ["delivered", "delivered", "delivered", "delivered", "shipped", "placed",
                                "cancelled", "returned"]
    static let webPages = ["/", "/products", "/products/", "/cart", "/checkout", "/account", "/search?q=",
                           "/sale", "/blog/"]
    static let marketingSignupSources = ["website", "checkout", "event", "partner", "import"]
}
