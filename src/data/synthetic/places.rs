//! Story frames about a place whose count changes (birds in a tree, passengers on a bus).
//!
//! These have no protagonist, so every sentence is written out per frame; the shared
//! multiplication and "only a third stay" phrasings live in `question.rs`.
//! Placeholders: `{n}` the operand, `{a}`/`{b}` the factors of a product opening.

/// The closing split of a place story: the count is divided into equal groups.
pub(crate) struct FinalSplit {
    /// The event, with `{n}` the number of groups.
    pub sentence: &'static str,
    pub question: &'static str,
    /// What the answer means, with `{x}` the per-group count.
    pub holding: &'static str,
    /// The question as an indirect clause ("how many birds are in each flock").
    pub goal: &'static str,
}

pub(crate) struct PlaceFrame {
    pub id: &'static str,
    pub items: &'static str,
    /// Where the items are, as used in "there are 12 birds in the tree".
    pub place: &'static str,
    pub intro: &'static [&'static str],
    pub product_intro: &'static [&'static str],
    pub add: &'static [&'static str],
    pub sub: &'static [&'static str],
    pub split: FinalSplit,
}

pub(crate) const PLACE_FRAMES: &[PlaceFrame] = &[
    PlaceFrame {
        id: "birds",
        items: "birds",
        place: "in the tree",
        intro: &[
            "There are {n} birds sitting in a tree.",
            "A tall tree has {n} birds in it.",
        ],
        product_intro: &["A tree has {a} branches, and {b} birds sit on each branch."],
        add: &[
            "{n} more birds land in the tree",
            "another {n} birds fly into the tree",
        ],
        sub: &[
            "{n} birds fly away",
            "{n} of the birds fly off to look for food",
        ],
        split: FinalSplit {
            sentence: "all the birds fly off in {n} equal flocks",
            question: "How many birds are in each flock?",
            holding: "each flock has {x} birds",
            goal: "how many birds are in each flock",
        },
    },
    PlaceFrame {
        id: "bus",
        items: "passengers",
        place: "on the bus",
        intro: &[
            "A city bus has {n} passengers on it.",
            "There are {n} passengers on a bus.",
        ],
        product_intro: &["On a bus, {a} rows of seats are full, with {b} passengers in each row."],
        add: &[
            "{n} more passengers get on at the next stop",
            "{n} people get on the bus at the station",
        ],
        sub: &[
            "{n} passengers get off at the next stop",
            "{n} passengers get off near the park",
        ],
        split: FinalSplit {
            sentence: "at the last stop, the passengers split into {n} equal groups",
            question: "How many passengers are in each group?",
            holding: "each group has {x} passengers",
            goal: "how many passengers are in each group",
        },
    },
    PlaceFrame {
        id: "library",
        items: "books",
        place: "on the shelf",
        intro: &[
            "A library shelf holds {n} books.",
            "There are {n} books on a shelf in the school library.",
        ],
        product_intro: &["A library shelf has {a} rows with {b} books in each row."],
        add: &[
            "the librarian puts {n} more books on the shelf",
            "{n} returned books are put back on the shelf",
        ],
        sub: &[
            "readers borrow {n} books from the shelf",
            "{n} old books are taken off the shelf",
        ],
        split: FinalSplit {
            sentence: "the librarian moves all the books into {n} boxes with the same number of books in each box",
            question: "How many books go into each box?",
            holding: "each box gets {x} books",
            goal: "how many books go into each box",
        },
    },
    PlaceFrame {
        id: "parking",
        items: "cars",
        place: "in the parking lot",
        intro: &[
            "There are {n} cars in a parking lot.",
            "A parking lot has {n} cars in it.",
        ],
        product_intro: &["A parking lot has {a} rows with {b} cars parked in each row."],
        add: &[
            "{n} more cars drive into the parking lot",
            "another {n} cars park there",
        ],
        sub: &["{n} cars drive away", "{n} of the cars leave the parking lot"],
        split: FinalSplit {
            sentence: "the cars are moved so that they stand in {n} equal rows",
            question: "How many cars are in each row?",
            holding: "each row has {x} cars",
            goal: "how many cars are in each row",
        },
    },
    PlaceFrame {
        id: "pond",
        items: "fish",
        place: "in the pond",
        intro: &["A pond has {n} fish in it.", "There are {n} fish in a small pond."],
        product_intro: &["A farmer empties {a} buckets into a pond, with {b} fish in each bucket."],
        add: &[
            "the farmer adds {n} more fish to the pond",
            "{n} baby fish hatch in the pond",
        ],
        sub: &["a fisherman catches {n} fish", "{n} fish are moved to another pond"],
        split: FinalSplit {
            sentence: "all the fish are moved into {n} tanks with the same number of fish in each tank",
            question: "How many fish go into each tank?",
            holding: "each tank gets {x} fish",
            goal: "how many fish go into each tank",
        },
    },
    PlaceFrame {
        id: "bakery",
        items: "loaves",
        place: "at the bakery",
        intro: &[
            "A bakery has {n} loaves of bread in the morning.",
            "There are {n} loaves of bread at the bakery.",
        ],
        product_intro: &["The baker bakes {a} trays of bread with {b} loaves on each tray."],
        add: &[
            "the baker bakes {n} more loaves",
            "a delivery brings {n} more loaves to the bakery",
        ],
        sub: &["customers buy {n} loaves", "the bakery sells {n} loaves before noon"],
        split: FinalSplit {
            sentence: "the baker packs all the loaves into {n} bags with the same number in each bag",
            question: "How many loaves go into each bag?",
            holding: "each bag gets {x} loaves",
            goal: "how many loaves go into each bag",
        },
    },
    PlaceFrame {
        id: "farm",
        items: "sheep",
        place: "in the field",
        intro: &["There are {n} sheep in a field.", "A farmer has {n} sheep in a field."],
        product_intro: &["A farmer brings {a} trucks to a field with {b} sheep on each truck."],
        add: &[
            "{n} more sheep join them in the field",
            "the farmer buys {n} more sheep and puts them in the field",
        ],
        sub: &[
            "the farmer sells {n} sheep",
            "{n} sheep are taken to the barn",
        ],
        split: FinalSplit {
            sentence: "the farmer splits the sheep into {n} equal pens",
            question: "How many sheep are in each pen?",
            holding: "each pen has {x} sheep",
            goal: "how many sheep are in each pen",
        },
    },
    PlaceFrame {
        id: "hall",
        items: "students",
        place: "in the hall",
        intro: &[
            "There are {n} students in the school hall.",
            "The school hall has {n} students in it.",
        ],
        product_intro: &["{a} classes come into the school hall, with {b} students in each class."],
        add: &[
            "{n} more students come into the hall",
            "another {n} students arrive",
        ],
        sub: &[
            "{n} students leave for a music lesson",
            "{n} students go back to their classroom",
        ],
        split: FinalSplit {
            sentence: "the teacher splits the students into {n} equal teams",
            question: "How many students are on each team?",
            holding: "each team has {x} students",
            goal: "how many students are on each team",
        },
    },
];
