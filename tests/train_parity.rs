//! The trainer against PyTorch + peft (`scripts/make_train_fixture.py`): per-step losses,
//! gradient norms and final weights within 1e-4 relative, for LoRA and full fine-tuning;
//! and a gradient check that every trainable tensor learns (fused ops drop gradients).

use candle_core::{safetensors, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokenskip_studio::model::{self, LoadOptions, ModelSpec};
use tokenskip_studio::pipeline::train::data::Tokenized;
use tokenskip_studio::pipeline::train::optim::{AdamW, AdamWConfig};
use tokenskip_studio::pipeline::train::params::{self, LoraSpec};
use tokenskip_studio::pipeline::train::run::{micro_batch_loss, optimizer_step};

fn fx() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fx().join("train").join(name)).unwrap()).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// Each step's micro-batches as tokenized examples (real tokens only, prompt length known).
fn steps(batches: &Value) -> Vec<Vec<Vec<Tokenized>>> {
    batches["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["micro_batches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|mb| {
                    let ids = mb["input_ids"].as_array().unwrap();
                    ids.iter()
                        .enumerate()
                        .map(|(r, row)| {
                            let len = mb["lengths"][r].as_u64().unwrap() as usize;
                            Tokenized {
                                ids: row.as_array().unwrap()[..len]
                                    .iter()
                                    .map(|x| x.as_u64().unwrap() as u32)
                                    .collect(),
                                prompt_len: mb["prompt_lengths"][r].as_u64().unwrap() as usize,
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn load(dir: &str, adapter: Option<&str>) -> model::LoadedModel {
    let spec: ModelSpec = fx().join(dir).to_str().unwrap().parse().unwrap();
    let opts = LoadOptions {
        adapter: adapter.map(|a| fx().join(a).to_string_lossy().into_owned()),
        ..Default::default()
    };
    model::load(&spec, &opts).unwrap()
}

fn tensor_close(got: &Tensor, want: &Tensor, name: &str) {
    let scale: f32 = want
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    let diff: f32 = (got - want)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(
        diff <= 1e-4 * scale.max(1e-6),
        "{name}: max diff {diff} vs scale {scale}"
    );
}

fn run_steps(
    m: &model::LoadedModel,
    t: &params::Trainable,
    batches: &Value,
    expected: &Value,
) -> AdamW {
    let h = &batches["hyperparameters"];
    let cfg = AdamWConfig {
        beta1: h["betas"][0].as_f64().unwrap(),
        beta2: h["betas"][1].as_f64().unwrap(),
        eps: h["eps"].as_f64().unwrap(),
        weight_decay: h["weight_decay"].as_f64().unwrap(),
    };
    let vars = t.vars();
    let mut opt = AdamW::new(cfg, &vars).unwrap();
    for (k, step) in steps(batches).iter().enumerate() {
        let want = &expected["steps"][k];
        let window: Vec<Vec<&Tokenized>> = step.iter().map(|mb| mb.iter().collect()).collect();
        let lr = want["lr"].as_f64().unwrap();
        let st = optimizer_step(
            &m.decoder,
            &vars,
            &mut opt,
            &window,
            lr,
            h["max_grad_norm"].as_f64().unwrap(),
        )
        .unwrap();
        assert_eq!(st.labels as u64, want["num_label_tokens"].as_u64().unwrap());
        assert!(
            rel(st.loss, want["loss"].as_f64().unwrap()) < 1e-4,
            "step {k}: loss {} vs {}",
            st.loss,
            want["loss"]
        );
        assert!(
            rel(st.grad_norm, want["grad_norm"].as_f64().unwrap()) < 1e-4,
            "step {k}: grad norm {} vs {}",
            st.grad_norm,
            want["grad_norm"]
        );
    }
    // Loss on step 1's batches after training.
    let first = &steps(batches)[0];
    let (mut sum, mut n) = (0f64, 0usize);
    for mb in first {
        let (l, c) = micro_batch_loss(&m.decoder, &mb.iter().collect::<Vec<_>>()).unwrap();
        sum += l.to_scalar::<f32>().unwrap() as f64;
        n += c;
    }
    let after = expected["loss_after"]["loss"].as_f64().unwrap();
    assert!(
        rel(sum / n as f64, after) < 1e-4,
        "loss after: {} vs {after}",
        sum / n as f64
    );
    opt
}

#[test]
fn lora_three_adamw_steps_match_peft() {
    let batches = json("batches.json");
    let expected = json("lora-expected.json");
    let mut m = load("tiny-qwen2", Some("train/lora-init"));
    let t = params::lora_trainable(
        &mut m.decoder,
        LoraSpec {
            r: 4,
            alpha: 8.0,
            ..Default::default()
        },
    )
    .unwrap();
    run_steps(&m, &t, &batches, &expected);
    let want: HashMap<String, Tensor> =
        safetensors::load(fx().join("train/lora-expected.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(t.params.len(), 28);
    for (name, var) in &t.params {
        tensor_close(var.as_tensor(), &want[&format!("final.{name}")], name);
    }
}

#[test]
fn full_fine_tuning_with_tied_embeddings_matches_pytorch() {
    let batches = json("batches-llama.json");
    let expected = json("full-expected.json");
    let mut m = load("tiny-llama", None);
    let t = params::full_trainable(&mut m.decoder).unwrap();
    run_steps(&m, &t, &batches, &expected);
    let want: HashMap<String, Tensor> =
        safetensors::load(fx().join("train/full-expected.safetensors"), &Device::Cpu).unwrap();
    let mut checked = 0;
    for (name, var) in &t.params {
        if let Some(w) = want.get(&format!("final.{name}")) {
            tensor_close(var.as_tensor(), w, name);
            checked += 1;
        }
    }
    assert_eq!(checked, 5);
}

/// After one backward pass every trainable tensor has a finite, non-zero gradient.
#[test]
fn every_trainable_tensor_gets_a_gradient() {
    let batches = json("batches.json");
    let first: Vec<Tokenized> = steps(&batches)[0][0].clone();
    let refs: Vec<&Tokenized> = first.iter().collect();
    // LoRA (with non-zero B so A's gradient is non-zero too) and full fine-tuning.
    let mut lora = load("tiny-qwen2", Some("tiny-qwen2-lora"));
    let t_lora = params::lora_trainable(
        &mut lora.decoder,
        LoraSpec {
            r: 4,
            alpha: 8.0,
            ..Default::default()
        },
    )
    .unwrap();
    let mut full = load("tiny-llama", None);
    let t_full = params::full_trainable(&mut full.decoder).unwrap();
    for (m, t) in [(&lora, &t_lora), (&full, &t_full)] {
        let (loss, _) = micro_batch_loss(&m.decoder, &refs).unwrap();
        let grads = loss.backward().unwrap();
        for (name, var) in &t.params {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("{name}: no gradient"));
            let sq: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
            assert!(sq.is_finite() && sq > 0.0, "{name}: gradient norm² {sq}");
        }
    }
}
