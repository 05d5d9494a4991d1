//! Writes the wordy reference chain of thought for a problem.
//!
//! TokenSkip learns to drop what a CoT does not need, so the reference CoTs carry
//! realistic redundancy: an opening, restatements of each event, connectives and
//! "so we now know that ..." recaps around the equations, which are the only essential
//! parts besides the answer line. One line per step; phrasing is drawn from many banks
//! so no single template dominates. Measured with the demo tokenizer, 65% of CoT tokens
//! are filler (issue 4 aims at about 60%; the connective, spaces and newline around each
//! equation set a floor near 50% even for the tersest lines).

use std::ops::Range;
use std::sync::OnceLock;

use rand::Rng;
use regex::Regex;

use super::answer_line;
use super::arith::{Chain, Op, Start, Step};
use super::question::Scene;
use super::text::{capitalize, fill, pick};

/// Separates the reasoning from the answer line, as in TokenSkip's training outputs
/// (`compressed CoT` + `\n\nThe final answer is: $\boxed{N}$`).
pub const ANSWER_SEPARATOR: &str = "\n\n";

const PROCESS: &[&str] = &[
    "Let's think about this step by step.",
    "Let's think about this one step at a time.",
    "Let's work through this problem step by step.",
    "Okay, let's read the problem carefully.",
    "First of all, let's understand what is going on in this problem.",
    "To solve this, we just have to follow what happens, one step at a time.",
    "Alright, let's break this problem down into small steps.",
    "This problem has a few steps, so let's go through them in order.",
    "Let's go through the story one event at a time.",
];
const GOAL: &[&str] = &[
    "We need to find out {goal}.",
    "The question asks {goal}.",
    "Let's think about {goal}.",
    "Let's figure out {goal} by going through the story in order.",
    "We want to know {goal}, so let's keep track of the {items}.",
    "So we have to work out {goal}.",
];
const START: &[&str] = &[
    "At the start, {hold}.",
    "We know that in the beginning {hold}.",
    "The problem tells us that at first {hold}.",
    "We start from the fact that {hold}.",
    "Initially, {hold}.",
];
const FIRST: &[&str] = &[
    "First,",
    "First of all,",
    "To begin with,",
    "The problem first tells us that",
    "We start with the first part:",
];
const MIDDLE: &[&str] = &[
    "Next,",
    "After that,",
    "Then,",
    "Now,",
    "Moving on,",
    "The next thing that happens is that",
    "After this,",
    "Then the problem says that",
];
const LAST: &[&str] = &[
    "Finally,",
    "Lastly,",
    "In the last step,",
    "At the end,",
    "The last thing that happens is that",
    "And finally,",
];
const GENERIC_ADD: &[&str] = &[
    "there are {n} more {items}",
    "we get {n} more {items}",
    "{n} {items} are added",
    "the number of {items} goes up by {n}",
];
const GENERIC_SUB: &[&str] = &[
    "{n} {items} are taken away",
    "the number of {items} goes down by {n}",
    "{n} of the {items} are gone",
    "we lose {n} {items}",
];
const GENERIC_MUL: &[&str] = &[
    "the number of {items} is multiplied by {n}",
    "the amount becomes {n} times bigger",
    "we get {n} times as many {items}",
];
const GENERIC_DIV: &[&str] = &[
    "the {items} are divided into {n} equal parts",
    "we have to split the {items} into {n} equal parts",
    "the amount is divided by {n}",
];
const GENERIC_PRODUCT: &[&str] = &[
    "there are {lhs} groups with {n} {items} in each",
    "we have {lhs} groups of {n} {items}",
];
const BRIDGE_ADD: &[&str] = &[
    "so we add: ",
    "which means we need to add {n}: ",
    "so we add {n} to {lhs}: ",
    "so the new total is ",
    "and that gives us ",
    "so we compute ",
];
const BRIDGE_SUB: &[&str] = &[
    "so we subtract: ",
    "which means we take {n} away: ",
    "so we subtract {n} from {lhs}: ",
    "so what remains is ",
    "so we compute ",
];
const BRIDGE_MUL: &[&str] = &[
    "so we multiply: ",
    "which means we multiply {lhs} by {n}: ",
    "so we compute ",
    "and multiplying gives ",
];
const BRIDGE_DIV: &[&str] = &[
    "so we divide: ",
    "which means we divide {lhs} by {n}: ",
    "so we compute ",
    "and dividing gives ",
];
// The empty entries give the terse "Then, 12 + 7 = 19." lines real CoTs also have.
const BARE_ADD: &[&str] = &["we add {n}: ", "we add {n} more: ", "adding {n} gives ", ""];
const BARE_SUB: &[&str] = &[
    "we subtract {n}: ",
    "we take away {n}: ",
    "subtracting {n} gives ",
    "",
];
const BARE_MUL: &[&str] = &["we multiply by {n}: ", "multiplying by {n} gives ", ""];
const BARE_DIV: &[&str] = &["we divide by {n}: ", "dividing by {n} gives ", ""];
const BARE_PRODUCT: &[&str] = &["we multiply: ", "the total is ", ""];
const LEAD: &[&str] = &[
    "To find the new amount, we calculate ",
    "Let's think about what this means in numbers: ",
    "In numbers, that is ",
    "We can write this as ",
    "As an equation, this is ",
    "So the calculation is ",
];
const AFTER: &[&str] = &[
    "So we now know that {hold}.",
    "In other words, {hold}.",
    "This means that now {hold}.",
    "That tells us that {hold}.",
    "Now {hold}.",
    "So at this point {hold}.",
];
const CLOSING: &[&str] = &[
    "In other words, {hold}.",
    "So, putting it all together, {hold}.",
    "Therefore, {hold}.",
    "That means the answer to the question is {x}.",
    "So the answer is {x}.",
    "So now we know {goal}: it is {x}.",
];

/// How chatty one CoT is: probabilities of the optional parts. Drawn per CoT, so that
/// lengths vary the way a model's own CoTs do.
struct Verbosity {
    /// An opening line before the first step ("Let's think about this step by step.").
    opener: f64,
    /// Both a process sentence and a goal sentence in the opening (else one of them).
    both_openers: f64,
    /// Restate the starting amount before the first step.
    start: f64,
    /// Restate the event before the equation (else just "we add 7: ...").
    restate: f64,
    /// Recap the new total after the equation ("so we now know that ...").
    after: f64,
    /// A closing sentence before the answer line.
    closing: f64,
}

const VERBOSITY: [Verbosity; 3] = [
    Verbosity {
        opener: 0.3,
        both_openers: 0.0,
        start: 0.0,
        restate: 0.2,
        after: 0.0,
        closing: 0.0,
    },
    Verbosity {
        opener: 0.8,
        both_openers: 0.05,
        start: 0.15,
        restate: 0.5,
        after: 0.1,
        closing: 0.25,
    },
    Verbosity {
        opener: 1.0,
        both_openers: 0.3,
        start: 0.5,
        restate: 0.9,
        after: 0.4,
        closing: 0.7,
    },
];

/// Writes the full reference CoT: reasoning lines, a blank line, the answer line.
pub(crate) fn write_cot<R: Rng>(rng: &mut R, chain: &Chain, scene: &Scene) -> String {
    // Weights 4:4:2 of terse, normal and wordy give a mean CoT of ~97 tokens, 65% filler.
    let verbosity = &VERBOSITY[match rng.random_range(0..10) {
        0..4 => 0,
        4..8 => 1,
        _ => 2,
    }];
    let goal_vars = [("goal", scene.goal.as_str()), ("items", scene.items)];
    let mut lines = Vec::with_capacity(chain.steps.len() + 3);
    if rng.random_bool(verbosity.opener) {
        lines.push(opening(rng, &goal_vars, verbosity));
    }
    if let (Start::Given, Some(first)) = (chain.start, chain.steps.first()) {
        if rng.random_bool(verbosity.start) {
            let x = first.lhs.to_string();
            let hold = fill(&scene.start_holding, &[("x", &x)]);
            let text = fill(pick(rng, START), &[("hold", &hold)]);
            match lines.last_mut() {
                Some(line) if rng.random_bool(0.5) => {
                    line.push(' ');
                    line.push_str(&text);
                }
                _ => lines.push(text),
            }
        }
    }
    let n_steps = chain.steps.len();
    for (i, step) in chain.steps.iter().enumerate() {
        let connectives = if i == 0 {
            FIRST
        } else if i + 1 == n_steps {
            LAST
        } else {
            MIDDLE
        };
        let event = scene.events.get(i).map_or("", String::as_str);
        let holding = scene.holdings.get(i).map_or("", String::as_str);
        let product = i == 0 && chain.start == Start::Product;
        let line = StepLine {
            step,
            connectives,
            event,
            holding,
            items: scene.items,
            product,
        };
        lines.push(line.write(rng, verbosity));
    }
    let answer = chain.answer();
    if rng.random_bool(verbosity.closing) {
        let x = answer.to_string();
        let hold = fill(
            scene.holdings.last().map_or("", String::as_str),
            &[("x", &x)],
        );
        let vars = [("hold", hold.as_str()), ("x", &x), ("goal", &scene.goal)];
        lines.push(capitalize(&fill(pick(rng, CLOSING), &vars)));
    }
    format!(
        "{}{ANSWER_SEPARATOR}{}",
        lines.join("\n"),
        answer_line(answer)
    )
}

fn opening<R: Rng>(rng: &mut R, vars: &[(&str, &str)], verbosity: &Verbosity) -> String {
    if rng.random_bool(verbosity.both_openers) {
        format!("{} {}", pick(rng, PROCESS), fill(pick(rng, GOAL), vars))
    } else if rng.random_bool(0.6) {
        pick(rng, PROCESS).to_string()
    } else {
        fill(pick(rng, GOAL), vars)
    }
}

/// The facts one step line is written from.
struct StepLine<'a> {
    step: &'a Step,
    /// The bank for this position (first, middle, last step).
    connectives: &'static [&'static str],
    /// The story's event as a clause ("she buys 7 more stickers").
    event: &'a str,
    /// What the new total means, with `{x}`.
    holding: &'a str,
    items: &'a str,
    /// The step is the product opening ("3 boxes with 8 pencils in each").
    product: bool,
}

impl StepLine<'_> {
    /// Connective, a restatement (or a bare "we add 7:"), the equation, maybe a recap.
    fn write<R: Rng>(&self, rng: &mut R, verbosity: &Verbosity) -> String {
        let step = self.step;
        let (lhs, n, res) = (
            step.lhs.to_string(),
            step.rhs.to_string(),
            step.result.to_string(),
        );
        let vars = [
            ("lhs", lhs.as_str()),
            ("n", n.as_str()),
            ("items", self.items),
        ];
        let equation = step.equation();
        let mut line = if rng.random_bool(verbosity.restate) {
            let connective = pick(rng, self.connectives);
            let restated = self.restatement(rng, &vars);
            if rng.random_bool(0.65) {
                let bridge = fill(pick(rng, bridge_bank(step.op)), &vars);
                format!("{connective} {restated}, {bridge}{equation}.")
            } else {
                format!("{connective} {restated}. {}{equation}.", pick(rng, LEAD))
            }
        } else {
            // "The next thing that happens is that" needs a clause, not "we add 7:".
            let adverbs: Vec<&'static str> = self
                .connectives
                .iter()
                .copied()
                .filter(|c| c.ends_with(','))
                .collect();
            let connective = pick(rng, &adverbs);
            let bare = fill(pick(rng, bare_bank(step.op, self.product)), &vars);
            format!("{connective} {bare}{equation}.")
        };
        if rng.random_bool(verbosity.after) {
            let hold = fill(self.holding, &[("x", &res)]);
            line.push(' ');
            line.push_str(&fill(pick(rng, AFTER), &[("hold", &hold)]));
        }
        capitalize(&line)
    }

    /// The story's own event most of the time, otherwise a generic paraphrase.
    fn restatement<R: Rng>(&self, rng: &mut R, vars: &[(&str, &str)]) -> String {
        if rng.random_bool(0.7) && !self.event.is_empty() {
            return self.event.to_string();
        }
        let bank = match (self.product, self.step.op) {
            (true, _) => GENERIC_PRODUCT,
            (false, Op::Add) => GENERIC_ADD,
            (false, Op::Sub) => GENERIC_SUB,
            (false, Op::Mul) => GENERIC_MUL,
            (false, Op::Div) => GENERIC_DIV,
        };
        fill(pick(rng, bank), vars)
    }
}

fn bridge_bank(op: Op) -> &'static [&'static str] {
    match op {
        Op::Add => BRIDGE_ADD,
        Op::Sub => BRIDGE_SUB,
        Op::Mul => BRIDGE_MUL,
        Op::Div => BRIDGE_DIV,
    }
}

fn bare_bank(op: Op, product: bool) -> &'static [&'static str] {
    match (product, op) {
        (true, _) => BARE_PRODUCT,
        (false, Op::Add) => BARE_ADD,
        (false, Op::Sub) => BARE_SUB,
        (false, Op::Mul) => BARE_MUL,
        (false, Op::Div) => BARE_DIV,
    }
}

/// Byte ranges of the essential parts of a CoT: every equation (`12 + 7 = 19`) and the
/// answer line. Everything else is filler. Used for calibration statistics and as a
/// ground truth that importance scorers can be checked against.
pub fn essential_spans(cot: &str) -> Vec<Range<usize>> {
    static EQUATION: OnceLock<Option<Regex>> = OnceLock::new();
    static ANSWER: OnceLock<Option<Regex>> = OnceLock::new();
    let equation = EQUATION.get_or_init(|| Regex::new(r"\d+ [-+*/] \d+ = \d+").ok());
    let answer =
        ANSWER.get_or_init(|| Regex::new(r"(?m)^The final answer is: \$\\boxed\{-?\d+\}\$$").ok());
    let mut spans: Vec<Range<usize>> = [equation, answer]
        .into_iter()
        .flatten()
        .flat_map(|re| re.find_iter(cot).map(|m| m.range()))
        .collect();
    spans.sort_by_key(|r| r.start);
    spans
}
