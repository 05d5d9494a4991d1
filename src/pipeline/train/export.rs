//! The same recipe as LLaMA-Factory files (YAML + DeepSpeed ZeRO-2 + dataset_info.json), so a
//! user who outgrows one machine runs exactly this fine-tune on a cluster.

use super::run::TrainConfig;
use super::save::write_atomic;
use crate::model::config::Arch;
use std::path::{Path, PathBuf};

/// What the exported recipe trains.
pub struct Recipe<'a> {
    pub model: &'a str,
    pub arch: Arch,
    pub data: &'a Path,
    pub cfg: &'a TrainConfig,
    /// `None` for full fine-tuning.
    pub lora: Option<(usize, f64, f64)>,
    pub cutoff_len: usize,
}

/// LLaMA-Factory's chat template name for an architecture.
pub fn template(arch: Arch) -> &'static str {
    match arch {
        Arch::Qwen2 => "qwen",
        Arch::Llama => "llama3",
    }
}

/// Writes `train_sft.yaml`, `ds_z2_config.json`, `dataset_info.json` and a copy of the data.
pub fn export(r: &Recipe, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let data_name = r
        .data
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "train.json".into());
    std::fs::copy(r.data, dir.join(&data_name))?;
    let info = serde_json::json!({
        "tokenskip": {
            "file_name": data_name,
            "columns": {"prompt": "instruction", "query": "input", "response": "output"}
        }
    });
    let ds = serde_json::json!({
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "zero_allow_untested_optimizer": true,
        "bf16": {"enabled": "auto"},
        "fp16": {"enabled": "auto"},
        "zero_optimization": {
            "stage": 2,
            "allgather_partitions": true,
            "allgather_bucket_size": 5e8,
            "overlap_comm": true,
            "reduce_scatter": true,
            "reduce_bucket_size": 5e8,
            "contiguous_gradients": true,
            "round_robin_gradients": true
        }
    });
    let c = r.cfg;
    let finetuning = match r.lora {
        Some((rank, alpha, dropout)) => format!(
            "finetuning_type: lora\nlora_target: all\nlora_rank: {rank}\nlora_alpha: {alpha}\nlora_dropout: {dropout}\n"
        ),
        None => "finetuning_type: full\n".to_string(),
    };
    let steps = c
        .max_steps
        .map(|s| format!("max_steps: {s}\n"))
        .unwrap_or_default();
    let yaml = format!(
        "# Written by tokenskip-studio: the recipe of `tokenskip-studio train`, for LLaMA-Factory.\n\
         # Run: llamafactory-cli train train_sft.yaml (from this directory)\n\
         ### model\nmodel_name_or_path: {model}\n\n### method\nstage: sft\ndo_train: true\n{finetuning}\
         deepspeed: ds_z2_config.json\n\n### dataset\ndataset: tokenskip\ndataset_dir: .\ntemplate: {tpl}\n\
         cutoff_len: {cutoff}\noverwrite_cache: true\n\n### output\noutput_dir: saves/tokenskip\n\
         logging_steps: 10\nsave_steps: {save}\nplot_loss: true\n\n### train\n\
         per_device_train_batch_size: {mb}\ngradient_accumulation_steps: {ga}\nlearning_rate: {lr:e}\n\
         num_train_epochs: {ep}\n{steps}lr_scheduler_type: {sched}\nwarmup_ratio: {wr}\nweight_decay: {wd}\n\
         max_grad_norm: {mgn}\nseed: {seed}\nbf16: true\nddp_timeout: 180000000\n",
        model = r.model,
        tpl = template(r.arch),
        cutoff = r.cutoff_len,
        save = if c.save_steps == 0 { 500 } else { c.save_steps },
        mb = c.micro_batch,
        ga = c.grad_accum,
        lr = c.lr,
        ep = c.epochs,
        sched = format!("{:?}", c.schedule).to_lowercase(),
        wr = c.warmup_ratio,
        wd = c.adamw.weight_decay,
        mgn = c.max_grad_norm,
        seed = c.seed,
    );
    let files = [
        (dir.join("train_sft.yaml"), yaml),
        (
            dir.join("ds_z2_config.json"),
            serde_json::to_string_pretty(&ds).unwrap_or_default(),
        ),
        (
            dir.join("dataset_info.json"),
            serde_json::to_string_pretty(&info).unwrap_or_default(),
        ),
    ];
    for (p, text) in &files {
        write_atomic(p, text.as_bytes())?;
    }
    let mut out: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
    out.push(dir.join(data_name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_carries_the_tokenskip_recipe() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("train.json");
        std::fs::write(&data, "[]").unwrap();
        let cfg = TrainConfig::default();
        let r = Recipe {
            model: "Qwen/Qwen2.5-7B-Instruct",
            arch: Arch::Qwen2,
            data: &data,
            cfg: &cfg,
            lora: Some((8, 16.0, 0.0)),
            cutoff_len: 2048,
        };
        let files = export(&r, &tmp.path().join("lf")).unwrap();
        let yaml = std::fs::read_to_string(&files[0]).unwrap();
        for want in [
            "lora_rank: 8",
            "lora_alpha: 16",
            "learning_rate: 5e-5",
            "num_train_epochs: 3",
            "gradient_accumulation_steps: 8",
            "lr_scheduler_type: cosine",
            "warmup_ratio: 0.1",
            "template: qwen",
            "cutoff_len: 2048",
            "deepspeed: ds_z2_config.json",
        ] {
            assert!(yaml.contains(want), "missing `{want}` in\n{yaml}");
        }
        let ds: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
        assert_eq!(ds["zero_optimization"]["stage"], 2);
        let info: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&files[2]).unwrap()).unwrap();
        assert_eq!(info["tokenskip"]["columns"]["query"], "input");
    }
}
