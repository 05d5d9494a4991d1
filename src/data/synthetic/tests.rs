use std::collections::HashSet;

use super::*;

fn train(n: usize) -> Vec<Problem> {
    generate(Split::Train, n, DEFAULT_SEED).unwrap()
}

#[test]
fn same_seed_same_problems_and_other_seed_differs() {
    let a = generate(Split::Train, 300, 7).unwrap();
    let b = generate(Split::Train, 300, 7).unwrap();
    let c = generate(Split::Train, 300, 8).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn shorter_runs_are_prefixes_of_longer_ones() {
    let long = generate(Split::Test, 500, DEFAULT_SEED).unwrap();
    let short = generate(Split::Test, 50, DEFAULT_SEED).unwrap();
    assert_eq!(&long[..50], &short[..]);
    assert_eq!(long[0].id, "synthetic-test-00000");
    assert_eq!(long[499].id, "synthetic-test-00499");
}

#[test]
fn answers_follow_from_the_steps() {
    for p in train(2000) {
        assert!((2..=3).contains(&p.steps.len()), "{}", p.id);
        for (i, s) in p.steps.iter().enumerate() {
            assert_eq!(s.op.apply(s.lhs, s.rhs), Some(s.result), "{}", p.id);
            if i > 0 {
                assert_eq!(s.lhs, p.steps[i - 1].result, "chain broken in {}", p.id);
            }
        }
        assert_eq!(p.answer, p.steps.last().unwrap().result);
    }
}

#[test]
fn values_stay_small_and_factors_are_single_digits() {
    for p in train(2000) {
        for (i, s) in p.steps.iter().enumerate() {
            for v in [s.lhs, s.rhs, s.result] {
                assert!((MIN_VALUE..=MAX_VALUE).contains(&v), "{} {s:?}", p.id);
            }
            let product_opening = i == 0 && p.start == Start::Product;
            match s.op {
                Op::Mul if product_opening => assert!(s.lhs <= MAX_FACTOR, "{s:?}"),
                Op::Mul => assert!(s.rhs <= MAX_FACTOR, "{s:?}"),
                Op::Div => {
                    assert!(s.rhs <= MAX_FACTOR, "{s:?}");
                    assert_eq!(s.lhs % s.rhs, 0, "{s:?}");
                }
                Op::Add | Op::Sub => {}
            }
        }
    }
}

#[test]
fn every_operation_is_common() {
    let mut counts = [0usize; 4];
    for p in train(2000) {
        let skip = usize::from(p.start == Start::Product);
        for s in &p.steps[skip..] {
            counts[Op::ALL.iter().position(|o| *o == s.op).unwrap()] += 1;
        }
    }
    let total: usize = counts.iter().sum();
    for (op, count) in Op::ALL.iter().zip(counts) {
        assert!(count * 100 >= total * 15, "{op:?} only {count} of {total}");
    }
}

#[test]
fn cot_has_one_line_per_equation_and_ends_with_the_answer_line() {
    for p in train(1000) {
        let expected_tail = format!("{ANSWER_SEPARATOR}{}", answer_line(p.answer));
        assert!(p.cot.ends_with(&expected_tail), "{}:\n{}", p.id, p.cot);
        assert_eq!(p.cot.lines().last(), Some(answer_line(p.answer).as_str()));
        let eq_lines: Vec<&str> = p
            .reasoning()
            .lines()
            .filter(|l| p.steps.iter().any(|s| l.contains(&s.equation())))
            .collect();
        assert_eq!(eq_lines.len(), p.steps.len(), "{}:\n{}", p.id, p.cot);
        for (line, step) in eq_lines.iter().zip(&p.steps) {
            assert!(line.contains(&step.equation()), "{}: {line}", p.id);
        }
        assert!(!p.reasoning().contains("\n\n"), "{}", p.id);
        assert_eq!(essential_spans(&p.cot).len(), p.steps.len() + 1, "{}", p.id);
    }
}

#[test]
fn texts_are_clean_sentences() {
    for p in train(2000) {
        let q = &p.question;
        assert!(!q.contains('\n') && q.ends_with('?'), "{q}");
        for text in [q.as_str(), p.reasoning()] {
            assert!(
                !text.contains(['{', '}']),
                "placeholder left in {}: {text}",
                p.id
            );
            assert!(!text.contains("  ") && !text.contains(" ,") && !text.contains(".."));
        }
        for sentence in q.split(". ").chain(q.split("? ")) {
            let first = sentence.chars().next().unwrap();
            assert!(first.is_uppercase() || first.is_ascii_digit(), "{q}");
        }
        for line in p.reasoning().lines() {
            assert!(
                line.chars().next().unwrap().is_uppercase(),
                "{}: {line}",
                p.id
            );
            assert!(
                line.ends_with('.') || line.ends_with(':'),
                "{}: {line}",
                p.id
            );
        }
    }
}

#[test]
fn clause_connectives_are_followed_by_clauses() {
    let awkward = regex::Regex::new(
        r"that \d+ [-+*/] |(that|:) (we (add|subtract|multiply|divide|take)|adding|subtracting|multiplying|dividing|the total is)",
    )
    .unwrap();
    for p in train(2000) {
        for line in p.reasoning().lines() {
            assert!(!awkward.is_match(line), "{}: {line}", p.id);
        }
    }
}

#[test]
fn questions_state_the_numbers_the_equations_use() {
    let word = |q: &str, n: i64| {
        q.split(|c: char| !c.is_ascii_digit())
            .any(|w| w == n.to_string())
    };
    for p in train(2000) {
        let first = &p.steps[0];
        assert!(word(&p.question, first.lhs), "{}: {}", p.id, p.question);
        for s in &p.steps {
            // Multiplying by 2 or 3 and dividing may be worded ("doubles", "a third").
            if matches!(s.op, Op::Add | Op::Sub) || s.rhs > 3 && s.op == Op::Mul {
                assert!(word(&p.question, s.rhs), "{}: {} {s:?}", p.id, p.question);
            }
        }
    }
}

#[test]
fn phrasing_varies() {
    let problems = train(1000);
    let distinct =
        |f: &dyn Fn(&Problem) -> String| problems.iter().map(f).collect::<HashSet<_>>().len();
    let first_lines = distinct(&|p| p.cot.lines().next().unwrap().to_string());
    assert!(first_lines >= 50, "only {first_lines} distinct first lines");
    let frames = distinct(&|p| p.frame.clone());
    assert!(frames >= 25, "only {frames} frames");
    // Strip numbers so that only wording counts.
    let shape = |t: &str| t.replace(|c: char| c.is_ascii_digit(), "");
    let questions = distinct(&|p| shape(&p.question));
    assert!(
        questions >= 900,
        "only {questions} distinct question wordings"
    );
    let cots = distinct(&|p| shape(&p.cot));
    assert!(cots >= 990, "only {cots} distinct CoT wordings");
}

#[test]
fn train_and_test_are_disjoint() {
    let train = train(20_000);
    let test = generate(Split::Test, 500, DEFAULT_SEED).unwrap();
    let train_questions: HashSet<&str> = train.iter().map(|p| p.question.as_str()).collect();
    let train_keys: HashSet<String> = train.iter().map(Problem::canonical_key).collect();
    assert_eq!(train_keys.len(), train.len(), "duplicate problems in train");
    for p in &test {
        assert!(!train_questions.contains(p.question.as_str()), "{}", p.id);
        assert!(!train_keys.contains(&p.canonical_key()), "{}", p.id);
        assert_eq!(split_of_key(&p.canonical_key()), Split::Test);
    }
    assert!(train
        .iter()
        .all(|p| split_of_key(&p.canonical_key()) == Split::Train));
}

#[test]
fn spec_parsing() {
    let spec = |s: &str| parse_synthetic_spec(s).map(|s| (s.split, s.n));
    assert_eq!(spec("synthetic"), Ok((Split::Train, DEFAULT_TRAIN_SIZE)));
    assert_eq!(spec("synthetic:200"), Ok((Split::Train, 200)));
    assert_eq!(spec("synthetic-train:7"), Ok((Split::Train, 7)));
    assert_eq!(spec("synthetic-test"), Ok((Split::Test, DEFAULT_TEST_SIZE)));
    assert_eq!(spec("synthetic-test:20"), Ok((Split::Test, 20)));
    assert_eq!(
        parse_synthetic_spec("synthetic:3").unwrap().seed,
        DEFAULT_SEED
    );
    for bad in [
        "synthetic:abc",
        "synthetic:",
        "synthetic:0",
        "synthetic:-5",
        "synthetic:+5",
    ] {
        let err = parse_synthetic_spec(bad).unwrap_err().to_string();
        assert!(err.contains(bad) && err.contains("synthetic:200"), "{err}");
    }
    let err = parse_synthetic_spec("synthetic:abc")
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"abc\" is not a positive integer"), "{err}");
    let err = parse_synthetic_spec("gsm8k:train.jsonl")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown synthetic dataset \"gsm8k\""), "{err}");
    let problems = parse_synthetic_spec("synthetic-test:3")
        .unwrap()
        .generate()
        .unwrap();
    assert_eq!(problems, generate(Split::Test, 3, DEFAULT_SEED).unwrap());
}

#[test]
fn dev_set_follows_the_canonical_test_set() {
    let dev = parse_synthetic_spec("synthetic-dev:4").unwrap();
    assert_eq!(
        (dev.split, dev.skip, dev.n),
        (Split::Test, DEFAULT_TEST_SIZE, 4)
    );
    let dev = dev.generate().unwrap();
    let all = generate(Split::Test, DEFAULT_TEST_SIZE + 4, DEFAULT_SEED).unwrap();
    assert_eq!(dev, all[DEFAULT_TEST_SIZE..]);
    assert_eq!(dev[0].id, "synthetic-test-00500");
    // No dev chain is a canonical test chain (nor a train one: the split is by chain).
    let test: HashSet<String> = all[..DEFAULT_TEST_SIZE]
        .iter()
        .map(Problem::canonical_key)
        .collect();
    assert!(dev.iter().all(|p| !test.contains(&p.canonical_key())));
    assert_eq!(
        parse_synthetic_spec("synthetic-dev").unwrap().n,
        DEFAULT_DEV_SIZE
    );
}

#[test]
fn bad_configs_are_refused() {
    for (min_steps, max_steps) in [(0, 2), (3, 2), (2, 5)] {
        let config = SyntheticConfig {
            min_steps,
            max_steps,
            ..SyntheticConfig::default()
        };
        let err = generate_with(&config, Split::Train, 1).unwrap_err();
        assert!(matches!(err, SyntheticError::InvalidConfig(_)), "{err}");
    }
    let four = SyntheticConfig {
        min_steps: 4,
        max_steps: 4,
        ..SyntheticConfig::default()
    };
    assert!(generate_with(&four, Split::Train, 50)
        .unwrap()
        .iter()
        .all(|p| p.steps.len() == 4));
}

#[test]
fn example_record_and_answer_line() {
    assert_eq!(answer_line(12), "The final answer is: $\\boxed{12}$");
    let p = generate(Split::Test, 1, DEFAULT_SEED).unwrap().remove(0);
    let e = p.to_example();
    assert_eq!(e.answer, p.answer.to_string());
    assert_eq!(e.cot.as_deref(), Some(p.cot.as_str()));
    assert_eq!(Example::from(p.clone()), e);
    assert_eq!(
        format!(
            "{}{ANSWER_SEPARATOR}{}",
            p.reasoning(),
            answer_line(p.answer)
        ),
        p.cot
    );
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Problem>(&json).unwrap(), p);
}

#[test]
#[ignore = "prints sample problems; run with --ignored --nocapture"]
fn print_samples() {
    let n = std::env::var("SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    for p in generate(Split::Test, n, DEFAULT_SEED).unwrap() {
        println!(
            "[{}] frame={} key={}\nQ: {}\n{}\n",
            p.id,
            p.frame,
            p.canonical_key(),
            p.question,
            p.cot
        );
    }
}

#[test]
#[ignore = "prints the distribution of steps, operations, answers and frames"]
fn print_distribution() {
    use std::collections::BTreeMap;
    let problems = train(20_000);
    let mut steps = BTreeMap::new();
    let mut ops = BTreeMap::new();
    let mut answers = BTreeMap::new();
    let mut frames = BTreeMap::new();
    for p in &problems {
        *steps.entry(p.steps.len()).or_insert(0) += 1;
        *answers.entry(p.answer / 10 * 10).or_insert(0) += 1;
        *frames.entry(p.frame.clone()).or_insert(0) += 1;
        for s in &p.steps {
            *ops.entry(format!("{:?}", s.op)).or_insert(0) += 1;
        }
    }
    let starts = problems
        .iter()
        .filter(|p| p.start == Start::Product)
        .count();
    println!("steps {steps:?}\nops {ops:?}\nproduct openings {starts}");
    println!("answers by tens {answers:?}\nframes {frames:?}");
}
