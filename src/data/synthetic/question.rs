//! Writes the question of a problem and the facts the CoT writer restates.
//!
//! The story follows the arithmetic chain: one sentence per step, with wording that
//! names the operand (`{n}`), so the question alone determines every equation.

use rand::Rng;

use super::arith::{Chain, Op, Start, Step};
use super::people::{PersonFrame, PEOPLE, PERSON_FRAMES};
use super::places::{PlaceFrame, PLACE_FRAMES};
use super::text::{capitalize, fill, fraction_word, pick, pick_fresh};

/// Share of stories about a person (the rest are about a place).
const PERSON_P: f64 = 0.7;
/// Share of final divisions that change the unit ("how many does each friend get").
const FINAL_SPLIT_P: f64 = 0.6;

/// Everything the CoT writer needs to restate the story in its own words.
pub(crate) struct Scene {
    pub frame_id: &'static str,
    pub question: String,
    pub items: &'static str,
    /// Per step: the event as a clause ("she buys 7 more stickers"), no final period.
    pub events: Vec<String>,
    /// Per step: what the running total means afterwards, with `{x}` for the total.
    pub holdings: Vec<String>,
    /// What the starting amount means, with `{x}` (used only for `Start::Given`).
    pub start_holding: String,
    /// The question as an indirect clause ("how many stickers Mia has in the end").
    pub goal: String,
}

const CONNECTORS: &[&str] = &[
    "then",
    "after that,",
    "later,",
    "next,",
    "later that day,",
    "the next day,",
    "soon after,",
];

const PERSON_START: &[&str] = &[
    "{name} has {n} {items}.",
    "{name} starts the day with {n} {items}.",
    "{name} owns {n} {items}.",
    "At first, {name} has {n} {items}.",
    "{name} has a collection of {n} {items}.",
    "In the morning, {name} has {n} {items}.",
];
const PERSON_PRODUCT: &[&str] = &[
    "{sub} has {a} {containers} with {b} {items} in each",
    "{sub} buys {a} {containers} of {items}, and each {container} holds {b} {items}",
    "{sub} has {a} {containers}, and there are {b} {items} in every {container}",
    "{sub} gets {a} {containers} that each contain {b} {items}",
];
const PERSON_MUL: &[&str] = &[
    "{sub} ends up with {n} times as many {items} as before",
    "{sub} gets more {items} until {pron} has {n} times as many as before",
    "the number of {items} that {name} has becomes {n} times as large",
    "{sub} trades each of {poss} {items} for {n} new ones",
];
const PERSON_MUL2: &[&str] = &["{sub} doubles the number of {poss} {items}"];
const PERSON_MUL3: &[&str] = &["{sub} triples the number of {poss} {items}"];
const PERSON_KEEP_FRAC: &[&str] = &[
    "{sub} keeps only {frac} of {poss} {items} and gives the rest away",
    "{sub} gives away all but {frac} of {poss} {items}",
];
const PERSON_KEEP_PILE: &[&str] = &[
    "{sub} splits {poss} {items} into {n} equal piles and keeps just one pile",
    "{sub} divides {poss} {items} into {n} equal groups and keeps one of the groups",
];
const PERSON_QUESTION: &[(&str, &str)] = &[
    (
        "How many {items} does {name} have now?",
        "how many {items} {name} has now",
    ),
    (
        "How many {items} does {name} have in the end?",
        "how many {items} {name} has in the end",
    ),
    (
        "How many {items} does {name} end up with?",
        "how many {items} {name} ends up with",
    ),
    (
        "How many {items} does {name} have after all this?",
        "how many {items} {name} has after all this",
    ),
    (
        "In the end, how many {items} does {name} have?",
        "how many {items} {name} has in the end",
    ),
];
const PERSON_HOLDING: &[&str] = &["{pron} has {x} {items}", "{name} has {x} {items}"];
const FRIENDS: &[(&str, &str)] = &[
    ("friend", "friends"),
    ("classmate", "classmates"),
    ("cousin", "cousins"),
    ("neighbor", "neighbors"),
    ("teammate", "teammates"),
];
/// Final divisions that change the unit: (event, question, holding, goal).
const PERSON_SPLITS: &[(&str, &str, &str, &str)] = &[
    (
        "{sub} shares all of {poss} {items} equally among {n} {friends}",
        "How many {items} does each {friend} get?",
        "each {friend} gets {x} {items}",
        "how many {items} each {friend} gets",
    ),
    (
        "{sub} packs all of {poss} {items} into {containers}, putting {n} {items} in each {container}",
        "How many {containers} does {name} fill?",
        "{pron} fills {x} {containers}",
        "how many {containers} {name} fills",
    ),
    (
        "{sub} lays out all of {poss} {items} in {n} equal rows",
        "How many {items} are in each row?",
        "each row has {x} {items}",
        "how many {items} are in each row",
    ),
];

const PLACE_MUL: &[&str] = &[
    "the number of {items} {place} becomes {n} times as large",
    "there are suddenly {n} times as many {items} {place} as before",
];
const PLACE_MUL2: &[&str] = &["the number of {items} {place} doubles"];
const PLACE_MUL3: &[&str] = &["the number of {items} {place} triples"];
const PLACE_KEEP_FRAC: &[&str] = &[
    "only {frac} of the {items} stay {place}",
    "{frac} of the {items} stay {place} and the rest are taken away",
];
const PLACE_KEEP_PILE: &[&str] = &[
    "the {items} {place} are split into {n} equal groups, and only one group stays",
    "the {items} are sorted into {n} equal groups, and every group but one is taken away",
];
const PLACE_QUESTION: &[(&str, &str)] = &[
    (
        "How many {items} are {place} now?",
        "how many {items} are {place} now",
    ),
    (
        "How many {items} are {place} in the end?",
        "how many {items} are {place} in the end",
    ),
    (
        "In the end, how many {items} are {place}?",
        "how many {items} are {place} in the end",
    ),
];

/// Writes a story for `chain` and returns it with the facts the CoT restates.
pub(crate) fn write_story<R: Rng>(rng: &mut R, chain: &Chain) -> Scene {
    if rng.random_bool(PERSON_P) {
        let frame = &PERSON_FRAMES[rng.random_range(0..PERSON_FRAMES.len())];
        person_story(rng, chain, frame)
    } else {
        let frame = &PLACE_FRAMES[rng.random_range(0..PLACE_FRAMES.len())];
        place_story(rng, chain, frame)
    }
}

/// Joins sentences into a one-line question, capitalising each sentence.
fn join_sentences(sentences: &[String]) -> String {
    sentences
        .iter()
        .map(|s| capitalize(s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sentence for an event: an optional connector, the clause and a period.
fn event_sentence<R: Rng>(
    rng: &mut R,
    clause: &str,
    need_connector: bool,
    used: &mut Vec<&'static str>,
) -> String {
    if need_connector || rng.random_bool(0.6) {
        format!("{} {clause}.", pick_fresh(rng, CONNECTORS, used))
    } else {
        format!("{clause}.")
    }
}

/// Picks a multiplication or same-unit division phrasing; `None` for + and -.
fn scaling_clause<R: Rng>(
    rng: &mut R,
    step: &Step,
    banks: [&[&'static str]; 5],
    used: &mut Vec<&'static str>,
) -> Option<&'static str> {
    let [mul, mul2, mul3, keep_frac, keep_pile] = banks;
    Some(match step.op {
        Op::Mul if step.rhs == 2 && rng.random_bool(0.5) => pick_fresh(rng, mul2, used),
        Op::Mul if step.rhs == 3 && rng.random_bool(0.5) => pick_fresh(rng, mul3, used),
        Op::Mul => pick_fresh(rng, mul, used),
        Op::Div if rng.random_bool(0.5) => pick_fresh(rng, keep_frac, used),
        Op::Div => pick_fresh(rng, keep_pile, used),
        Op::Add | Op::Sub => return None,
    })
}

fn person_story<R: Rng>(rng: &mut R, chain: &Chain, frame: &PersonFrame) -> Scene {
    let person = &PEOPLE[rng.random_range(0..PEOPLE.len())];
    let (friend, friends) = FRIENDS[rng.random_range(0..FRIENDS.len())];
    let subs_name = format!("{}'s", person.name);
    let base: Vec<(&str, &str)> = vec![
        ("name", person.name),
        ("pron", person.pron),
        ("poss", person.poss),
        ("obj", person.obj),
        ("items", frame.items),
        ("container", frame.container),
        ("containers", frame.containers),
        ("friend", friend),
        ("friends", friends),
    ];
    let (question_t, goal_t) = PERSON_QUESTION[rng.random_range(0..PERSON_QUESTION.len())];
    let mut scene = Scene {
        frame_id: frame.id,
        question: String::new(),
        items: frame.items,
        events: Vec::new(),
        holdings: Vec::new(),
        start_holding: fill(pick(rng, PERSON_HOLDING), &base),
        goal: fill(goal_t, &base),
    };
    let mut question = fill(question_t, &base);
    let mut sentences = Vec::new();
    let mut used = Vec::new();
    let last = chain.steps.len().saturating_sub(1);
    for (i, step) in chain.steps.iter().enumerate() {
        // The story names the person first; later sentences mostly use the pronoun.
        let named = i == 0 || rng.random_bool(0.25);
        let (sub, subs) = if named {
            (person.name, subs_name.as_str())
        } else {
            (person.pron, person.poss)
        };
        let n = step.rhs.to_string();
        let (a, b) = (step.lhs.to_string(), step.rhs.to_string());
        let frac = fraction_word(step.rhs).unwrap_or("one part");
        let mut vars = base.clone();
        vars.extend([
            ("sub", sub),
            ("subs", subs),
            ("n", n.as_str()),
            ("a", a.as_str()),
            ("b", b.as_str()),
            ("frac", frac),
        ]);
        let mut holding = fill(pick(rng, PERSON_HOLDING), &base);
        let clause = if i == 0 && chain.start == Start::Product {
            pick(rng, PERSON_PRODUCT)
        } else if i == last && step.op == Op::Div && rng.random_bool(FINAL_SPLIT_P) {
            let (event, q, hold, goal) = PERSON_SPLITS[rng.random_range(0..PERSON_SPLITS.len())];
            question = fill(q, &vars);
            holding = fill(hold, &vars);
            scene.goal = fill(goal, &vars);
            event
        } else {
            let banks = [
                PERSON_MUL,
                PERSON_MUL2,
                PERSON_MUL3,
                PERSON_KEEP_FRAC,
                PERSON_KEEP_PILE,
            ];
            match step.op {
                Op::Add => pick_fresh(rng, frame.add, &mut used),
                Op::Sub => pick_fresh(rng, frame.sub, &mut used),
                Op::Mul | Op::Div => scaling_clause(rng, step, banks, &mut used).unwrap_or(""),
            }
        };
        if i == 0 && chain.start == Start::Given {
            let mut start_vars = base.clone();
            start_vars.push(("n", a.as_str()));
            sentences.push(fill(pick(rng, PERSON_START), &start_vars));
            vars.retain(|(k, _)| !matches!(*k, "sub" | "subs"));
            vars.extend([("sub", person.pron), ("subs", person.poss)]);
        }
        let clause_text = fill(clause, &vars);
        let first_event = i == 0 && chain.start == Start::Product;
        sentences.push(if first_event {
            format!("{clause_text}.")
        } else {
            event_sentence(rng, &clause_text, false, &mut used)
        });
        // The CoT retells the event with the pronoun: the person is known by then.
        let mut cot_vars = vars.clone();
        cot_vars.retain(|(k, _)| !matches!(*k, "sub" | "subs"));
        cot_vars.extend([("sub", person.pron), ("subs", person.poss)]);
        scene.events.push(fill(clause, &cot_vars));
        scene.holdings.push(holding);
    }
    sentences.push(question);
    scene.question = join_sentences(&sentences);
    scene
}

fn place_story<R: Rng>(rng: &mut R, chain: &Chain, frame: &PlaceFrame) -> Scene {
    let base: Vec<(&str, &str)> = vec![("items", frame.items), ("place", frame.place)];
    let (question_t, goal_t) = PLACE_QUESTION[rng.random_range(0..PLACE_QUESTION.len())];
    let holding = fill("there are {x} {items} {place}", &base);
    let mut scene = Scene {
        frame_id: frame.id,
        question: String::new(),
        items: frame.items,
        events: Vec::new(),
        holdings: Vec::new(),
        start_holding: holding.clone(),
        goal: fill(goal_t, &base),
    };
    let mut question = fill(question_t, &base);
    let mut sentences = Vec::new();
    let mut used = Vec::new();
    let last = chain.steps.len().saturating_sub(1);
    for (i, step) in chain.steps.iter().enumerate() {
        let n = step.rhs.to_string();
        let (a, b) = (step.lhs.to_string(), step.rhs.to_string());
        let frac = fraction_word(step.rhs).unwrap_or("one part");
        let mut vars = base.clone();
        vars.extend([
            ("n", n.as_str()),
            ("a", a.as_str()),
            ("b", b.as_str()),
            ("frac", frac),
        ]);
        let mut step_holding = holding.clone();
        if i == 0 && chain.start == Start::Product {
            let text = fill(pick(rng, frame.product_intro), &vars);
            scene.events.push(decapitalize(text.trim_end_matches('.')));
            sentences.push(text);
            scene.holdings.push(step_holding);
            continue;
        }
        if i == 0 {
            let mut start_vars = base.clone();
            start_vars.push(("n", a.as_str()));
            sentences.push(fill(pick(rng, frame.intro), &start_vars));
        }
        let clause = if i == last && step.op == Op::Div && rng.random_bool(FINAL_SPLIT_P) {
            question = frame.split.question.to_string();
            step_holding = frame.split.holding.to_string();
            scene.goal = frame.split.goal.to_string();
            frame.split.sentence
        } else {
            let banks = [
                PLACE_MUL,
                PLACE_MUL2,
                PLACE_MUL3,
                PLACE_KEEP_FRAC,
                PLACE_KEEP_PILE,
            ];
            match step.op {
                Op::Add => pick_fresh(rng, frame.add, &mut used),
                Op::Sub => pick_fresh(rng, frame.sub, &mut used),
                Op::Mul | Op::Div => scaling_clause(rng, step, banks, &mut used).unwrap_or(""),
            }
        };
        let clause_text = fill(clause, &vars);
        // Place clauses may start with a number, so they always get a connector.
        sentences.push(event_sentence(rng, &clause_text, true, &mut used));
        scene.events.push(clause_text);
        scene.holdings.push(step_holding);
    }
    sentences.push(question);
    scene.question = join_sentences(&sentences);
    scene
}

/// Lower-cases the first character (place intros are full sentences; the CoT quotes
/// them mid-sentence). Place texts contain no proper nouns.
fn decapitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
