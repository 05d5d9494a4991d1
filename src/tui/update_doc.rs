//! The CoT half of `update`: showing a text, taking analysis and generation results
//! (latest request wins), re-thresholding at a new ratio, the token cursor and the
//! aligned scrolling. Pure, like `update`.

use crate::compress::{CompressOptions, Compressor, Granularity, Kept};
use crate::importance::{Importance, TokenSpan};

use super::effect::Effect;
use super::state::{Analysis, Doc, Level, ModelAt, ModelStatus, Origin, State, Status};
use super::wrap::{self, Wrapped};

fn status(s: &mut State, level: Level, text: impl Into<String>) {
    s.status = Some(Status {
        level,
        text: text.into(),
    });
}

fn next_req(s: &mut State) -> u64 {
    s.last_req += 1;
    s.last_req
}

/// Stops the generations that are running (the user moved on).
pub fn cancel_generations(s: &mut State) -> Vec<Effect> {
    [s.pending_generation.take(), s.pending_side.take()]
        .into_iter()
        .flatten()
        .map(|req| Effect::Cancel { req })
        .collect()
}

/// Puts `text` on screen and asks the worker to score it. Any running generation or
/// analysis becomes stale.
pub fn show_text(s: &mut State, question: String, text: String, origin: Origin) -> Vec<Effect> {
    s.doc = Doc {
        question,
        origin,
        text,
        analysis: None,
        model_at: None,
    };
    s.cursor = 0;
    s.scroll = 0;
    let mut effects = cancel_generations(s);
    s.pending_analysis = None;
    if !s.doc.text.trim().is_empty() {
        effects.extend(request_analysis(s));
    }
    effects
}

/// Scores the current text with the current scorer (a new request id).
pub fn request_analysis(s: &mut State) -> Vec<Effect> {
    if s.doc.text.trim().is_empty() || s.pending_generation.is_some() {
        return vec![];
    }
    let req = next_req(s);
    s.pending_analysis = Some(req);
    vec![Effect::Analyze {
        req,
        text: s.doc.text.clone(),
        scorer: s.scorer.clone(),
    }]
}

/// Ranks the scored CoT once; every ratio after this is a re-threshold.
pub fn analyzed(
    s: &mut State,
    req: u64,
    tokens: Vec<TokenSpan>,
    importance: Importance,
    logprobs: Option<Vec<Option<f32>>>,
) -> Vec<Effect> {
    if s.pending_analysis != Some(req) {
        return vec![]; // stale: a newer request superseded it
    }
    s.pending_analysis = None;
    let n = tokens.len();
    match build(&s.doc.text, tokens, importance, s.granularity, s.gamma()) {
        Ok(mut a) => {
            // Log-probs that do not line up with the tokens are dropped, not misread.
            a.logprobs = logprobs.filter(|l| l.len() == n);
            s.cursor = s.cursor.min(a.tokens.len().saturating_sub(1));
            s.doc.analysis = Some(a);
            clamp_scroll(s);
        }
        Err(e) => status(s, Level::Error, format!("cannot compress this CoT: {e}")),
    }
    vec![]
}

fn build(
    text: &str,
    tokens: Vec<TokenSpan>,
    importance: Importance,
    granularity: Granularity,
    gamma: f64,
) -> Result<Analysis, crate::compress::CompressError> {
    let compressor = Compressor::new(
        text,
        &importance,
        &tokens,
        granularity,
        CompressOptions::default(),
    )?;
    let mut kept = Kept::default();
    compressor.at_into(gamma, &mut kept)?;
    let min_score = importance
        .scores
        .iter()
        .copied()
        .fold(f32::INFINITY, f32::min);
    let max_score = importance
        .scores
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    let units = compressor.token_rank().iter().max().map_or(0, |&r| r + 1);
    Ok(Analysis {
        tokens,
        importance,
        compressor,
        kept,
        min_score,
        max_score,
        units,
        logprobs: None,
    })
}

/// New ratio: only the mask changes (O(n), no model, no re-ranking).
pub fn rethreshold(s: &mut State) {
    let gamma = s.gamma();
    if let Some(a) = &mut s.doc.analysis {
        // gamma is steps / 20 in (0, 1], which `at_into` accepts; on the impossible
        // error the previous mask simply stays.
        let _ = a.compressor.at_into(gamma, &mut a.kept);
    }
}

/// `w`: token <-> word granularity; re-ranks from the same scores (no model).
pub fn toggle_granularity(s: &mut State) -> Vec<Effect> {
    s.granularity = match s.granularity {
        Granularity::Token => Granularity::Word,
        Granularity::Word => Granularity::Token,
    };
    let (granularity, gamma) = (s.granularity, s.gamma());
    if let Some(a) = s.doc.analysis.take() {
        let logprobs = a.logprobs;
        match build(&s.doc.text, a.tokens, a.importance, granularity, gamma) {
            Ok(mut b) => {
                b.logprobs = logprobs;
                s.doc.analysis = Some(b);
            }
            Err(e) => status(s, Level::Error, format!("cannot compress this CoT: {e}")),
        }
    }
    vec![]
}

/// `g` / `G`: generate a CoT for the selected question (at the current ratio for `G`).
pub fn generate(s: &mut State, at_ratio: bool) -> Vec<Effect> {
    match &s.model {
        ModelStatus::Ready { .. } => {}
        ModelStatus::Loading { name } => {
            let text = format!("model {name} is still loading; try again in a moment");
            status(s, Level::Info, text);
            return vec![];
        }
        ModelStatus::Failed { name, .. } => {
            let text =
                format!("no model to generate with ({name} did not load); start with --model DIR");
            status(s, Level::Warn, text);
            return vec![];
        }
    }
    if at_ratio && !s.doc.text.trim().is_empty() && s.pending_generation.is_none() {
        return start_side_generation(s);
    }
    let Some(ex) = s.examples.get(s.selected) else {
        status(s, Level::Info, "no question selected: press i to type one");
        return vec![];
    };
    s.doc.question = ex.question.clone();
    let gamma = (at_ratio && s.ratio_steps < 20).then(|| s.gamma());
    start_generation(s, gamma)
}

/// `G` with a CoT on screen: the model writes its own CoT at the current ratio (the
/// TokenSkip prompt), shown under the pruned one so the two compressions compare.
fn start_side_generation(s: &mut State) -> Vec<Effect> {
    let mut effects: Vec<Effect> = s
        .pending_side
        .take()
        .map(|req| Effect::Cancel { req })
        .into_iter()
        .collect();
    let gamma = s.gamma();
    let req = next_req(s);
    s.pending_side = Some(req);
    s.doc.model_at = Some(ModelAt {
        gamma,
        text: String::new(),
        tokens: None,
    });
    effects.push(Effect::Generate {
        req,
        question: s.doc.question.clone(),
        gamma: (gamma < 1.0).then_some(gamma),
    });
    effects
}

/// Clears the panes and asks the worker for a streamed generation of `doc.question`.
pub fn start_generation(s: &mut State, gamma: Option<f64>) -> Vec<Effect> {
    let mut effects = cancel_generations(s);
    let req = next_req(s);
    s.pending_generation = Some(req);
    s.pending_analysis = None;
    s.doc.origin = Origin::Streaming { gamma };
    s.doc.text.clear();
    s.doc.analysis = None;
    s.doc.model_at = None;
    s.cursor = 0;
    s.scroll = 0;
    effects.push(Effect::Generate {
        req,
        question: s.doc.question.clone(),
        gamma,
    });
    effects
}

pub fn generated(
    s: &mut State,
    req: u64,
    text: String,
    new_tokens: Option<usize>,
    decode_tokens_per_s: Option<f64>,
) -> Vec<Effect> {
    if s.pending_side == Some(req) {
        s.pending_side = None;
        if let Some(m) = &mut s.doc.model_at {
            m.text = text;
            m.tokens = new_tokens;
        }
        return vec![];
    }
    if s.pending_generation != Some(req) {
        return vec![];
    }
    s.pending_generation = None;
    if let (
        ModelStatus::Ready {
            decode_tokens_per_s: tps,
            ..
        },
        Some(new),
    ) = (&mut s.model, decode_tokens_per_s)
    {
        *tps = Some(new);
    }
    let gamma = match s.doc.origin {
        Origin::Streaming { gamma } => gamma,
        _ => None,
    };
    s.doc.origin = Origin::Generated { gamma };
    s.doc.text = text;
    if s.doc.text.trim().is_empty() {
        status(s, Level::Warn, "the model generated no text");
        return vec![];
    }
    request_analysis(s)
}

/// The full pane's wrapped lines at the current size.
pub fn full_wrap(s: &State) -> Wrapped<'_> {
    let inner = s.regions().full.inner();
    let pieces = wrap::full_pieces(&s.doc, s.plain_marks);
    let n = s.doc.analysis.as_ref().map_or(0, |a| a.tokens.len());
    wrap::wrap(pieces.into_iter(), inner.w, n)
}

/// Lines a page scroll moves.
pub fn page(s: &State) -> i64 {
    i64::from(s.regions().full.inner().h.saturating_sub(1).max(1))
}

fn max_scroll(s: &State) -> usize {
    let h = s.regions().full.inner().h as usize;
    full_wrap(s).lines.len().saturating_sub(h.max(1))
}

pub fn scroll_by(s: &mut State, lines: i64) -> Vec<Effect> {
    let max = max_scroll(s) as i64;
    s.scroll = (s.scroll as i64).saturating_add(lines).clamp(0, max) as usize;
    vec![]
}

pub fn clamp_scroll(s: &mut State) {
    s.scroll = s.scroll.min(max_scroll(s));
}

/// `h`/`l`: moves the cursor and scrolls just enough to keep it in view.
pub fn move_cursor(s: &mut State, delta: i64) -> Vec<Effect> {
    let Some(n) = s.doc.analysis.as_ref().map(|a| a.tokens.len()) else {
        return vec![];
    };
    if n == 0 {
        return vec![];
    }
    s.cursor = (s.cursor as i64)
        .saturating_add(delta)
        .clamp(0, n as i64 - 1) as usize;
    let h = s.regions().full.inner().h as usize;
    if let Some(line) = full_wrap(s).line_of(s.cursor) {
        if line < s.scroll {
            s.scroll = line;
        } else if h > 0 && line >= s.scroll + h {
            s.scroll = line + 1 - h;
        }
    }
    vec![]
}

/// The mouse over a token in either pane moves the cursor there (the inspector shows it).
pub fn hover(s: &mut State, col: u16, row: u16) -> Vec<Effect> {
    if s.too_small() || s.help || s.jobs_view {
        return vec![];
    }
    let r = s.regions();
    let (full_in, comp_in) = (r.full.inner(), r.compressed.inner());
    let hit = {
        let full = full_wrap(s);
        if full_in.contains(col, row) {
            full.token_at(s.scroll + (row - full_in.y) as usize, col - full_in.x)
        } else if comp_in.contains(col, row) {
            s.doc.analysis.as_ref().and_then(|a| {
                let pieces = wrap::compressed_pieces(&s.doc.text, a);
                let comp = wrap::wrap(pieces.into_iter(), comp_in.w, a.tokens.len());
                let top = wrap::aligned_top(&full, &comp, a, s.scroll);
                comp.token_at(top + (row - comp_in.y) as usize, col - comp_in.x)
            })
        } else {
            None
        }
    };
    if let Some(t) = hit {
        s.cursor = t;
    }
    vec![]
}
