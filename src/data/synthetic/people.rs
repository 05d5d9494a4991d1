//! Story frames about one person and a kind of object they collect, buy or give away.
//!
//! Each frame has its own verbs, so that "bakes 6 more cookies" and "loses 4 marbles"
//! both occur; the shared multiplication and division phrasings live in `question.rs`.
//! Placeholders: `{sub}` subject (name or pronoun), `{subs}` its possessive ("Mia's" or
//! "her"), `{poss}`/`{obj}` pronouns for a subject already named, `{n}` the operand.

/// A person with a gendered pronoun set (the stories are in the third person singular).
pub(crate) struct Person {
    pub name: &'static str,
    pub pron: &'static str,
    pub poss: &'static str,
    pub obj: &'static str,
}

const fn she(name: &'static str) -> Person {
    Person {
        name,
        pron: "she",
        poss: "her",
        obj: "her",
    }
}

const fn he(name: &'static str) -> Person {
    Person {
        name,
        pron: "he",
        poss: "his",
        obj: "him",
    }
}

pub(crate) const PEOPLE: &[Person] = &[
    she("Mia"),
    she("Emma"),
    she("Olivia"),
    she("Ava"),
    she("Sofia"),
    she("Lily"),
    she("Grace"),
    she("Chloe"),
    she("Zoe"),
    she("Nora"),
    she("Hannah"),
    she("Ruby"),
    she("Alice"),
    she("Maya"),
    she("Priya"),
    she("Aisha"),
    she("Lena"),
    she("Julia"),
    she("Sara"),
    she("Yuki"),
    he("Liam"),
    he("Noah"),
    he("Ethan"),
    he("Lucas"),
    he("Mason"),
    he("Leo"),
    he("Jack"),
    he("Owen"),
    he("Ben"),
    he("Sam"),
    he("Omar"),
    he("Ravi"),
    he("Diego"),
    he("Tom"),
    he("Max"),
    he("Felix"),
    he("Hugo"),
    he("Kenji"),
    he("Adam"),
    he("Marco"),
];

/// A kind of object a person owns, with the verbs that make it grow and shrink.
pub(crate) struct PersonFrame {
    pub id: &'static str,
    pub items: &'static str,
    /// What the objects come in ("3 boxes with 8 pencils in each") and are packed into.
    pub container: &'static str,
    pub containers: &'static str,
    pub add: &'static [&'static str],
    pub sub: &'static [&'static str],
}

pub(crate) const PERSON_FRAMES: &[PersonFrame] = &[
    PersonFrame {
        id: "stickers",
        items: "stickers",
        container: "sheet",
        containers: "sheets",
        add: &[
            "{sub} buys {n} more stickers",
            "{sub} gets {n} new stickers from a friend",
            "{sub} wins {n} stickers in a school contest",
        ],
        sub: &[
            "{sub} gives {n} stickers to {poss} little brother",
            "{sub} sticks {n} stickers into a notebook",
            "{sub} trades away {n} stickers",
        ],
    },
    PersonFrame {
        id: "apples",
        items: "apples",
        container: "basket",
        containers: "baskets",
        add: &[
            "{sub} picks {n} more apples from the orchard",
            "{sub} buys {n} more apples at the market",
        ],
        sub: &[
            "{sub} uses {n} apples to bake pies",
            "{sub} sells {n} apples to a neighbor",
            "{sub} gives {n} apples to {poss} friends",
        ],
    },
    PersonFrame {
        id: "marbles",
        items: "marbles",
        container: "bag",
        containers: "bags",
        add: &[
            "{sub} finds {n} more marbles under the couch",
            "{sub} wins {n} marbles from {poss} friends",
        ],
        sub: &[
            "{sub} loses {n} marbles at the park",
            "{sub} gives {n} marbles to {poss} sister",
        ],
    },
    PersonFrame {
        id: "cookies",
        items: "cookies",
        container: "tray",
        containers: "trays",
        add: &[
            "{sub} bakes {n} more cookies",
            "{sub} buys {n} more cookies from the bakery",
        ],
        sub: &[
            "{sub} sells {n} cookies at the bake sale",
            "{sub} and {poss} friends eat {n} cookies",
        ],
    },
    PersonFrame {
        id: "books",
        items: "books",
        container: "box",
        containers: "boxes",
        add: &[
            "{sub} buys {n} more books",
            "{sub} receives {n} books as a birthday present",
        ],
        sub: &[
            "{sub} donates {n} books to the library",
            "{sub} lends {n} books to {poss} classmates",
        ],
    },
    PersonFrame {
        id: "pencils",
        items: "pencils",
        container: "pack",
        containers: "packs",
        add: &[
            "{sub} buys {n} more pencils",
            "{subs} teacher gives {obj} {n} more pencils",
        ],
        sub: &[
            "{sub} gives {n} pencils to {poss} classmates",
            "{sub} loses {n} pencils at school",
        ],
    },
    PersonFrame {
        id: "coins",
        items: "coins",
        container: "jar",
        containers: "jars",
        add: &[
            "{sub} saves {n} more coins",
            "{sub} finds {n} coins in an old coat",
        ],
        sub: &[
            "{sub} spends {n} coins on snacks",
            "{sub} puts {n} coins into a charity box",
        ],
    },
    PersonFrame {
        id: "shells",
        items: "seashells",
        container: "bucket",
        containers: "buckets",
        add: &[
            "{sub} collects {n} more seashells on the beach",
            "{sub} finds {n} more seashells near the rocks",
        ],
        sub: &[
            "{sub} gives {n} seashells to {poss} cousin",
            "{sub} drops {n} seashells on the way home",
        ],
    },
    PersonFrame {
        id: "cards",
        items: "trading cards",
        container: "pack",
        containers: "packs",
        add: &[
            "{sub} buys {n} more trading cards",
            "{sub} wins {n} trading cards in a game",
        ],
        sub: &[
            "{sub} trades away {n} trading cards",
            "{sub} gives {n} trading cards to a friend",
        ],
    },
    PersonFrame {
        id: "flowers",
        items: "flowers",
        container: "bunch",
        containers: "bunches",
        add: &[
            "{sub} picks {n} more flowers in the garden",
            "{sub} buys {n} more flowers",
        ],
        sub: &[
            "{sub} gives {n} flowers to {poss} teacher",
            "{sub} puts {n} flowers in a vase for {poss} grandmother",
        ],
    },
    PersonFrame {
        id: "eggs",
        items: "eggs",
        container: "carton",
        containers: "cartons",
        add: &["{subs} hens lay {n} more eggs", "{sub} buys {n} more eggs"],
        sub: &[
            "{sub} uses {n} eggs to make breakfast",
            "{sub} sells {n} eggs at the farmers market",
        ],
    },
    PersonFrame {
        id: "balloons",
        items: "balloons",
        container: "bag",
        containers: "bags",
        add: &[
            "{sub} blows up {n} more balloons",
            "{sub} buys {n} more balloons for the party",
        ],
        sub: &[
            "{n} of {subs} balloons pop",
            "{sub} gives {n} balloons to the children next door",
        ],
    },
    PersonFrame {
        id: "beads",
        items: "beads",
        container: "box",
        containers: "boxes",
        add: &[
            "{sub} buys {n} more beads",
            "{sub} gets {n} beads from {poss} aunt",
        ],
        sub: &[
            "{sub} uses {n} beads to make a bracelet",
            "{sub} loses {n} beads on the floor",
        ],
    },
    PersonFrame {
        id: "toy_cars",
        items: "toy cars",
        container: "box",
        containers: "boxes",
        add: &[
            "{sub} gets {n} more toy cars for {poss} birthday",
            "{sub} buys {n} more toy cars",
        ],
        sub: &[
            "{sub} gives {n} toy cars to {poss} little brother",
            "{sub} sells {n} toy cars at a yard sale",
        ],
    },
    PersonFrame {
        id: "cupcakes",
        items: "cupcakes",
        container: "tray",
        containers: "trays",
        add: &[
            "{sub} bakes {n} more cupcakes",
            "{sub} makes another {n} cupcakes",
        ],
        sub: &[
            "{sub} sells {n} cupcakes",
            "{sub} brings {n} cupcakes to {poss} neighbors",
        ],
    },
    PersonFrame {
        id: "stamps",
        items: "stamps",
        container: "sheet",
        containers: "sheets",
        add: &[
            "{sub} buys {n} more stamps",
            "{sub} gets {n} old stamps from {poss} grandfather",
        ],
        sub: &[
            "{sub} uses {n} stamps to send letters",
            "{sub} swaps away {n} stamps",
        ],
    },
    PersonFrame {
        id: "candies",
        items: "candies",
        container: "bag",
        containers: "bags",
        add: &[
            "{sub} buys {n} more candies",
            "{sub} gets {n} candies on Halloween",
        ],
        sub: &[
            "{sub} eats {n} candies",
            "{sub} shares {n} candies with {poss} friends",
        ],
    },
    PersonFrame {
        id: "crayons",
        items: "crayons",
        container: "box",
        containers: "boxes",
        add: &[
            "{sub} buys {n} more crayons",
            "{sub} finds {n} crayons in {poss} desk",
        ],
        sub: &[
            "{sub} breaks {n} crayons",
            "{sub} gives {n} crayons to a classmate",
        ],
    },
    PersonFrame {
        id: "oranges",
        items: "oranges",
        container: "crate",
        containers: "crates",
        add: &[
            "{sub} picks {n} more oranges",
            "{sub} buys {n} more oranges",
        ],
        sub: &[
            "{sub} squeezes {n} oranges to make juice",
            "{sub} sells {n} oranges",
        ],
    },
    PersonFrame {
        id: "rocks",
        items: "rocks",
        container: "bag",
        containers: "bags",
        add: &[
            "{sub} collects {n} more rocks on a hike",
            "{sub} finds {n} more shiny rocks",
        ],
        sub: &[
            "{sub} paints {n} rocks and gives them away",
            "{sub} leaves {n} rocks in the garden",
        ],
    },
];
