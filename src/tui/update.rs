//! `update(&mut State, Action) -> Vec<Effect>`: the only place state changes.
//!
//! Pure: no I/O, no clock (time arrives in `Tick`), no threads, no ratatui/candle
//! types. The CoT-specific parts (analysis results, re-thresholding, generation,
//! cursor and scrolling) live in `update_doc`.

use super::action::Action;
use super::effect::Effect;
use super::layout;
use super::state::{Doc, Level, ModelStatus, Origin, State, Status, RATIO_STEPS};
use super::update_charts as charts;
use super::update_doc as doc;
use super::update_jobs as jobs;

/// Most examples shown in the list (a `synthetic` dataset has 20,000).
pub const MAX_EXAMPLES: usize = 2000;

pub fn update(s: &mut State, a: Action) -> Vec<Effect> {
    match a {
        Action::Resize { cols, rows } => {
            s.cols = cols;
            s.rows = rows;
            doc::clamp_scroll(s);
            vec![]
        }
        Action::Tick { now_ms } => {
            s.now_ms = now_ms;
            vec![]
        }
        Action::SetPlainMarks { on } => {
            s.plain_marks = on;
            vec![]
        }
        Action::Quit => {
            s.quit = true;
            vec![Effect::Quit]
        }
        Action::Notice { text } => {
            s.status = Some(Status {
                level: Level::Warn,
                text,
            });
            vec![]
        }
        Action::ToggleHelp => {
            s.help = !s.help;
            vec![]
        }
        Action::Escape => {
            if s.palette.is_some() {
                s.palette = None;
            } else if s.help {
                s.help = false;
            } else if s.prompt_focused {
                s.prompt_focused = false;
            } else {
                s.status = None;
            }
            vec![]
        }
        Action::SelectNext => select(s, s.selected.saturating_add(1)),
        Action::SelectPrev => select(s, s.selected.saturating_sub(1)),
        Action::Select { index } => select(s, index),
        Action::FocusPrompt => {
            s.prompt_focused = true;
            s.help = false;
            vec![]
        }
        Action::InputChar { c } => {
            if c.is_control() {
            } else if let Some(p) = &mut s.palette {
                p.push(c);
            } else if s.prompt_focused {
                s.prompt.push(c);
            }
            vec![]
        }
        Action::InputBackspace => {
            if let Some(p) = &mut s.palette {
                p.pop();
            } else if s.prompt_focused {
                s.prompt.pop();
            }
            vec![]
        }
        Action::SubmitPrompt if s.palette.is_some() => jobs::run_palette(s),
        Action::SubmitPrompt => submit_prompt(s),
        Action::OpenPalette => {
            s.palette = Some(String::new());
            s.help = false;
            s.prompt_focused = false;
            vec![]
        }
        Action::ToggleJobs => {
            s.jobs_view = !s.jobs_view;
            s.charts_view &= !s.jobs_view;
            vec![]
        }
        Action::ToggleCharts => charts::toggle(s),
        a @ (Action::ChartLoaded { .. } | Action::ChartFailed { .. }) => charts::chart_action(s, a),
        Action::SessionSaved { path, actions } => {
            s.status = Some(Status {
                level: Level::Info,
                text: format!("session saved to {path} ({actions} actions): replay it with tokenskip-studio replay {path}"),
            });
            vec![]
        }
        Action::SessionSaveFailed { path, message } => {
            s.status = Some(Status {
                level: Level::Error,
                text: format!("cannot save the session to {path}: {message}"),
            });
            vec![]
        }
        Action::SelectJob { delta } => jobs::select_job(s, delta),
        Action::CancelSelectedJob => jobs::cancel_selected(s),
        a @ (Action::JobStarted { .. }
        | Action::JobEvent { .. }
        | Action::JobLog { .. }
        | Action::JobExited { .. }
        | Action::JobSpawnFailed { .. }) => jobs::job_action(s, a),
        Action::SetRatio { steps } => set_ratio(s, steps),
        Action::RatioUp => set_ratio(s, s.ratio_steps.saturating_add(1)),
        Action::RatioDown => set_ratio(s, s.ratio_steps.saturating_sub(1)),
        Action::CycleScorer => cycle_scorer(s),
        Action::ToggleGranularity => doc::toggle_granularity(s),
        Action::MoveCursor { delta } => doc::move_cursor(s, delta),
        Action::Scroll { lines } => doc::scroll_by(s, lines),
        Action::PageUp => doc::scroll_by(s, -doc::page(s)),
        Action::PageDown => doc::scroll_by(s, doc::page(s)),
        Action::Generate { at_ratio } => doc::generate(s, at_ratio),
        Action::MouseDown { col, row } => mouse_down(s, col, row),
        Action::MouseDrag { col, .. } => {
            if s.dragging_ratio {
                let track = layout::slider_track(s.regions().slider);
                return set_ratio(s, layout::ratio_at(track, col));
            }
            vec![]
        }
        Action::MouseUp { .. } => {
            s.dragging_ratio = false;
            vec![]
        }
        Action::MouseMove { col, row } => doc::hover(s, col, row),
        Action::MouseScroll { col, row, lines } => {
            let r = s.regions();
            if r.list.contains(col, row) {
                let next = (s.selected as i64 + lines).max(0) as usize;
                return select(s, next);
            }
            doc::scroll_by(s, lines)
        }
        Action::ExamplesLoaded {
            source,
            mut examples,
            note,
        } => {
            examples.truncate(MAX_EXAMPLES);
            s.examples = examples;
            s.examples_source = source;
            if let Some(text) = note {
                s.status = Some(Status {
                    level: Level::Warn,
                    text,
                });
            }
            s.selected = 0;
            s.doc = Doc::default(); // so that select(0) reloads
            select(s, 0)
        }
        Action::ModelLoaded {
            name,
            decode_tokens_per_s,
            scorers,
        } => {
            s.model = ModelStatus::Ready {
                name: name.clone(),
                decode_tokens_per_s,
            };
            if !scorers.is_empty() {
                s.scorers = scorers;
            }
            s.status = Some(Status {
                level: Level::Info,
                text: format!("model {name} loaded: g generates a CoT, s switches scorers"),
            });
            vec![]
        }
        Action::ModelFailed { name, message } => {
            s.model = ModelStatus::Failed {
                name: name.clone(),
                message: message.clone(),
            };
            s.status = Some(Status {
                level: Level::Warn,
                text: format!(
                    "model {name} not loaded: reference CoTs and the rules scorer only · {message}"
                ),
            });
            vec![]
        }
        Action::Analyzed {
            req,
            tokens,
            importance,
            logprobs,
        } => doc::analyzed(s, req, tokens, importance, logprobs),
        Action::AnalysisFailed { req, message } => {
            if s.pending_analysis != Some(req) {
                return vec![];
            }
            s.pending_analysis = None;
            if s.scorer != "rules" {
                // Keep the panes useful: score with rules, say why.
                let failed = std::mem::replace(&mut s.scorer, "rules".into());
                let effects = doc::request_analysis(s);
                s.status = Some(Status {
                    level: Level::Error,
                    text: format!("{message}; scored with rules instead of {failed}"),
                });
                return effects;
            }
            s.status = Some(Status {
                level: Level::Error,
                text: format!("scoring failed: {message}"),
            });
            vec![]
        }
        Action::CotChunk { req, piece } => {
            if s.pending_generation == Some(req) {
                s.doc.text.push_str(&piece);
            } else if let (Some(m), true) = (&mut s.doc.model_at, s.pending_side == Some(req)) {
                m.text.push_str(&piece);
            }
            vec![]
        }
        Action::CotGenerated {
            req,
            text,
            new_tokens,
            decode_tokens_per_s,
        } => doc::generated(s, req, text, new_tokens, decode_tokens_per_s),
        Action::GenerationFailed { req, message } => {
            if s.pending_side == Some(req) {
                s.pending_side = None;
                s.doc.model_at = None;
                s.status = Some(Status {
                    level: Level::Error,
                    text: format!("generation at the ratio failed: {message}"),
                });
                return vec![];
            }
            if s.pending_generation != Some(req) {
                return vec![];
            }
            s.pending_generation = None;
            // Put the question's reference CoT back rather than an empty pane.
            let effects = reload(s);
            s.status = Some(Status {
                level: Level::Error,
                text: format!("generation failed: {message}"),
            });
            effects
        }
    }
}

/// Shows example `index` (clamped): its reference CoT, scored with the current scorer.
fn select(s: &mut State, index: usize) -> Vec<Effect> {
    if s.examples.is_empty() {
        return vec![];
    }
    let index = index.min(s.examples.len() - 1);
    if index == s.selected && s.doc.origin != Origin::Empty {
        return vec![];
    }
    s.selected = index;
    let ex = &s.examples[index];
    let question = ex.question.clone();
    match ex.cot.clone() {
        Some(cot) => doc::show_text(s, question, cot, Origin::Reference),
        None => {
            let effects = doc::show_text(s, question, String::new(), Origin::Reference);
            s.status = Some(Status {
                level: Level::Info,
                text: "this question has no reference CoT: press g to generate one".into(),
            });
            effects
        }
    }
}

/// Shows the selected example again (after a failed generation).
fn reload(s: &mut State) -> Vec<Effect> {
    s.doc = Doc::default();
    select(s, s.selected)
}

/// Enter in the prompt: with a model, generate a CoT for the question; without one,
/// compress the typed text itself (so a pasted CoT can be inspected offline).
fn submit_prompt(s: &mut State) -> Vec<Effect> {
    let text = s.prompt.trim().to_string();
    s.prompt_focused = false;
    if text.is_empty() {
        return vec![];
    }
    s.prompt.clear();
    if s.model.is_ready() {
        s.doc.question = text;
        doc::start_generation(s, None)
    } else {
        s.status = Some(Status {
            level: Level::Info,
            text: "no model loaded: compressing the typed text itself as a CoT".into(),
        });
        doc::show_text(s, text.clone(), text, Origin::Typed)
    }
}

fn set_ratio(s: &mut State, steps: u8) -> Vec<Effect> {
    s.ratio_steps = steps.clamp(1, RATIO_STEPS);
    doc::rethreshold(s);
    vec![]
}

/// `s`: the next scorer spec; re-scores the current CoT in the worker.
fn cycle_scorer(s: &mut State) -> Vec<Effect> {
    if s.scorers.len() < 2 {
        s.status = Some(Status {
            level: Level::Info,
            text: if s.model.is_ready() {
                "only the rules scorer is available".into()
            } else {
                "model-based scorers need a loaded model: only rules is available".into()
            },
        });
        return vec![];
    }
    let i = s.scorers.iter().position(|x| *x == s.scorer).unwrap_or(0);
    s.scorer = s.scorers[(i + 1) % s.scorers.len()].clone();
    doc::request_analysis(s)
}

fn mouse_down(s: &mut State, col: u16, row: u16) -> Vec<Effect> {
    if s.too_small() {
        return vec![];
    }
    let r = s.regions();
    if r.slider.contains(col, row) {
        let track = layout::slider_track(r.slider);
        if col >= track.x && col < track.x + track.w {
            s.dragging_ratio = true;
            return set_ratio(s, layout::ratio_at(track, col));
        }
        return vec![];
    }
    if r.prompt.contains(col, row) {
        s.prompt_focused = true;
        return vec![];
    }
    let inner = r.list.inner();
    if inner.contains(col, row) {
        let offset = list_offset(s.selected, inner.h as usize);
        return select(s, offset + (row - inner.y) as usize);
    }
    doc::hover(s, col, row)
}

/// First visible row of the question list: keeps the selection on screen.
pub fn list_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        (selected + 1).saturating_sub(height)
    }
}
