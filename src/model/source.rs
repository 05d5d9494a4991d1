//! Model specs (`demo`, a directory, a `.gguf` file, a hub id) and loading them.

use super::config::{token_ids, ConfigError, ModelConfig};
use super::decoder::Decoder;
use super::gguf::GgufModel;
use super::lora::Adapter;
use super::tokenizer::{ChatTokenizer, TokenizerError};
#[cfg(tokenskip_demo)]
use super::weights::MapSource;
use super::weights::{LoadError, SafetensorsSource};
use candle_core::{DType, Device};
use std::path::{Path, PathBuf};

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// The small model embedded in the binary (`assets/demo/`).
    Demo,
    /// A local directory in HF layout.
    Dir(PathBuf),
    /// A local GGUF file.
    Gguf(PathBuf),
    /// A Hugging Face hub id such as `Qwen/Qwen2.5-7B-Instruct`.
    Hub(String),
}

/// Everything that can go wrong turning a spec into a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("model `{0}` not found: expected `demo`, a directory with config.json, a .gguf file, or a hub id such as Qwen/Qwen2.5-7B-Instruct")]
    NotFound(String),
    #[error("{0}")]
    Hub(String),
    #[error("the embedded demo model is not in this build: assets/demo/ is empty. Train it with scripts/train-demo.sh, or pass --model DIR")]
    NoDemo,
    #[error("adapter `demo`: this build embeds no TokenSkip adapter for the demo model (assets/demo/tokenskip-adapter/ is empty). Make it with INSTALL=1 scripts/reproduce-demo.sh, or pass --adapter DIR")]
    NoDemoAdapter,
    #[error(
        "{path}: the GGUF file has no tokenizer metadata and no tokenizer.json sits beside it"
    )]
    NoGgufTokenizer { path: String },
}

impl std::str::FromStr for ModelSpec {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "demo" {
            return Ok(ModelSpec::Demo);
        }
        let p = Path::new(s);
        if s.ends_with(".gguf") {
            return if p.is_file() {
                Ok(ModelSpec::Gguf(p.to_path_buf()))
            } else {
                Err(ModelError::NotFound(s.to_string()))
            };
        }
        if p.is_dir() {
            return Ok(ModelSpec::Dir(p.to_path_buf()));
        }
        let looks_like_hub = s.split('/').count() == 2
            && !s.starts_with('.')
            && !s.starts_with('/')
            && s.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if looks_like_hub {
            Ok(ModelSpec::Hub(s.to_string()))
        } else {
            Err(ModelError::NotFound(s.to_string()))
        }
    }
}

impl std::fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSpec::Demo => write!(f, "demo"),
            ModelSpec::Dir(p) | ModelSpec::Gguf(p) => write!(f, "{}", p.display()),
            ModelSpec::Hub(id) => write!(f, "{id}"),
        }
    }
}

/// How to load: device, dtype, adapter.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub device: Device,
    pub dtype: DType,
    /// A PEFT adapter directory or hub id.
    pub adapter: Option<String>,
    /// Fold the adapter into the weights (faster inference) instead of keeping it separate.
    pub merge_adapter: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            device: Device::Cpu,
            dtype: DType::F32,
            adapter: None,
            merge_adapter: false,
        }
    }
}

/// A decoder with its tokenizer.
pub struct LoadedModel {
    pub decoder: Decoder,
    pub tokenizer: ChatTokenizer,
    /// The spec it came from, for logs and session headers.
    pub name: String,
}

/// Loads the model named by `spec`, then its adapter if one is given.
pub fn load(spec: &ModelSpec, opts: &LoadOptions) -> Result<LoadedModel, ModelError> {
    let (mut decoder, tokenizer) = match spec {
        ModelSpec::Demo => load_demo(opts)?,
        ModelSpec::Dir(dir) => load_dir(dir, opts)?,
        ModelSpec::Hub(id) => load_dir(&hub_snapshot(id, &model_files(id)?)?, opts)?,
        ModelSpec::Gguf(path) => {
            let g = GgufModel::open(path)?;
            let tokenizer = match g.tokenizer {
                Some(t) => t,
                None => gguf_side_tokenizer(path, &g.cfg.eos_token_ids)?,
            };
            (
                Decoder::load(g.cfg, &g.tensors, &opts.device, opts.dtype)?,
                tokenizer,
            )
        }
    };
    if let Some(a) = &opts.adapter {
        open_adapter(a)?.apply(&mut decoder, opts.merge_adapter)?;
    }
    Ok(LoadedModel {
        decoder,
        tokenizer,
        name: spec.to_string(),
    })
}

fn load_dir(dir: &Path, opts: &LoadOptions) -> Result<(Decoder, ChatTokenizer), ModelError> {
    let cfg = ModelConfig::from_file(&dir.join("config.json"))?;
    let tokenizer = dir_tokenizer(dir, &cfg.eos_token_ids)?;
    let weights = SafetensorsSource::open_dir(dir)?;
    Ok((
        Decoder::load(cfg, &weights, &opts.device, opts.dtype)?,
        tokenizer,
    ))
}

/// The tokenizer of an HF-layout directory; `config_eos` are the EOS ids of `config.json`.
fn dir_tokenizer(dir: &Path, config_eos: &[u32]) -> Result<ChatTokenizer, ModelError> {
    let mut eos = config_eos.to_vec();
    // generation_config.json often lists extra stop ids (LLaMA-3's <|eot_id|>).
    if let Ok(text) = std::fs::read_to_string(dir.join("generation_config.json")) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            for id in token_ids(v.get("eos_token_id")).unwrap_or_default() {
                if !eos.contains(&id) {
                    eos.push(id);
                }
            }
        }
    }
    Ok(ChatTokenizer::from_dir(dir, &eos)?)
}

/// Loads only the tokenizer and chat template of `spec`: no weights are read, and the
/// architecture need not be one this crate runs (for models served elsewhere, `eval
/// --endpoint`). A directory or hub repo needs `tokenizer.json`; `config.json` is optional
/// and only read for its EOS ids. A GGUF file's metadata is read, not its tensors.
pub fn load_tokenizer(spec: &ModelSpec) -> Result<ChatTokenizer, ModelError> {
    match spec {
        ModelSpec::Demo => demo_tokenizer().map(|(_, t)| t),
        ModelSpec::Dir(dir) => dir_tokenizer(dir, &config_eos_ids(dir)?),
        ModelSpec::Hub(id) => {
            hub_get(id, "config.json", true)?;
            let dir = hub_snapshot(id, &["tokenizer.json".into()])?;
            dir_tokenizer(&dir, &config_eos_ids(&dir)?)
        }
        ModelSpec::Gguf(path) => match GgufModel::read_tokenizer(path)? {
            Some(t) => Ok(t),
            None => gguf_side_tokenizer(path, &[]),
        },
    }
}

/// `eos_token_id` of `dir/config.json` without validating the rest (any architecture).
fn config_eos_ids(dir: &Path) -> Result<Vec<u32>, ModelError> {
    let path = dir.join("config.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let shown = path.display().to_string();
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|source| ConfigError::Json {
        path: shown.clone(),
        source,
    })?;
    Ok(
        token_ids(v.get("eos_token_id")).map_err(|problem| ConfigError::Field {
            path: shown,
            field: "eos_token_id".into(),
            problem,
        })?,
    )
}

/// A GGUF file without tokenizer metadata: the `tokenizer.json` beside it.
fn gguf_side_tokenizer(path: &Path, eos: &[u32]) -> Result<ChatTokenizer, ModelError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.join("tokenizer.json").exists() {
        return Err(ModelError::NoGgufTokenizer {
            path: path.display().to_string(),
        });
    }
    Ok(ChatTokenizer::from_dir(dir, eos)?)
}

#[cfg(tokenskip_demo)]
macro_rules! asset {
    ($f:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/", $f))
    };
}

#[cfg(tokenskip_demo)]
fn load_demo(opts: &LoadOptions) -> Result<(Decoder, ChatTokenizer), ModelError> {
    let (cfg, tokenizer) = demo_tokenizer()?;
    let tensors = candle_core::safetensors::load_buffer(asset!("model.safetensors"), &Device::Cpu)
        .map_err(|e| LoadError::candle("demo/model.safetensors", e))?;
    let src = MapSource {
        tensors,
        desc: "the embedded demo model".into(),
    };
    Ok((
        Decoder::load(cfg, &src, &opts.device, opts.dtype)?,
        tokenizer,
    ))
}

/// The embedded demo model's config and tokenizer (no weights).
#[cfg(tokenskip_demo)]
fn demo_tokenizer() -> Result<(ModelConfig, ChatTokenizer), ModelError> {
    let cfg_text = String::from_utf8_lossy(asset!("config.json"));
    let cfg = ModelConfig::from_json_str(&cfg_text, "demo/config.json")?;
    let tok_cfg: serde_json::Value = serde_json::from_slice(asset!("tokenizer_config.json"))
        .map_err(|e| TokenizerError::File {
            path: "demo/tokenizer_config.json".into(),
            problem: e.to_string(),
        })?;
    let tokenizer = ChatTokenizer::from_json(
        asset!("tokenizer.json"),
        &tok_cfg,
        None,
        &cfg.eos_token_ids,
        "demo",
    )?;
    Ok((cfg, tokenizer))
}

#[cfg(not(tokenskip_demo))]
fn load_demo(_opts: &LoadOptions) -> Result<(Decoder, ChatTokenizer), ModelError> {
    Err(ModelError::NoDemo)
}

#[cfg(not(tokenskip_demo))]
fn demo_tokenizer() -> Result<(ModelConfig, ChatTokenizer), ModelError> {
    Err(ModelError::NoDemo)
}

/// The files a model repo on the hub needs (shards are read from the index).
fn model_files(id: &str) -> Result<Vec<String>, ModelError> {
    let index = hub_get(id, "model.safetensors.index.json", true)?;
    let mut files: Vec<String> = vec!["config.json".into(), "tokenizer.json".into()];
    match index {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| LoadError::file(&path, e))?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| LoadError::file(&path, e))?;
            let mut shards: Vec<String> = v["weight_map"]
                .as_object()
                .map(|m| {
                    m.values()
                        .filter_map(|f| f.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            shards.sort();
            shards.dedup();
            files.extend(shards);
        }
        None => files.push("model.safetensors".into()),
    }
    Ok(files)
}

/// Fetches `files` of hub repo `id` (or finds them in the cache) and returns the snapshot dir.
fn hub_snapshot(id: &str, files: &[String]) -> Result<PathBuf, ModelError> {
    for optional in ["tokenizer_config.json", "generation_config.json"] {
        hub_get(id, optional, true)?;
    }
    let mut dir = None;
    for f in files {
        let path = hub_get(id, f, false)?
            .ok_or_else(|| ModelError::Hub(format!("{id}: {f} is missing")))?;
        dir = path.parent().map(Path::to_path_buf);
    }
    dir.ok_or_else(|| ModelError::Hub(format!("{id}: nothing to download")))
}

fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "TRUE" | "yes"))
}

/// One file of a hub model repo: from the cache when offline, else downloaded (and cached).
/// `optional` files that do not exist give `Ok(None)`. Public so that loaders of other
/// model kinds (the LLMLingua-2 classifier) fetch with the same cache, offline mode and
/// messages.
pub fn hub_get(id: &str, file: &str, optional: bool) -> Result<Option<PathBuf>, ModelError> {
    let cache = hf_hub::Cache::from_env();
    if let Some(p) = cache.model(id.to_string()).get(file) {
        return Ok(Some(p));
    }
    if offline() {
        if optional {
            return Ok(None);
        }
        return Err(ModelError::Hub(format!(
            "{id}: {file} is not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set; fetch it on a machine with network with `huggingface-cli download {id}` (then copy HF_HOME over), or unset HF_HUB_OFFLINE",
            cache.path().display()
        )));
    }
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .map_err(|e| ModelError::Hub(format!("{id}: cannot start the hub client: {e}")))?;
    match api.model(id.to_string()).get(file) {
        Ok(p) => Ok(Some(p)),
        Err(_) if optional => Ok(None),
        Err(e) => Err(ModelError::Hub(format!(
            "{id}: cannot download {file}: {e} (check the id, your network, and HF_TOKEN for gated models; set HF_HUB_OFFLINE=1 to use only the cache)"
        ))),
    }
}

/// The adapter spec naming the demo model's TokenSkip adapter embedded in the binary
/// (`assets/demo/tokenskip-adapter/`, made by `scripts/reproduce-demo.sh`).
pub const DEMO_ADAPTER: &str = "demo";

/// Whether this build embeds the demo model's TokenSkip adapter.
pub fn has_demo_adapter() -> bool {
    cfg!(tokenskip_demo_adapter)
}

/// Opens an adapter spec: `demo` (embedded), a directory or a hub id.
pub fn open_adapter(spec: &str) -> Result<Adapter, ModelError> {
    if spec == DEMO_ADAPTER {
        return demo_adapter();
    }
    Ok(Adapter::open(&adapter_dir(spec)?)?)
}

#[cfg(tokenskip_demo_adapter)]
fn demo_adapter() -> Result<Adapter, ModelError> {
    Ok(Adapter::from_bytes(
        asset!("tokenskip-adapter/adapter_config.json"),
        asset!("tokenskip-adapter/adapter_model.safetensors"),
        "demo/tokenskip-adapter",
    )?)
}

#[cfg(not(tokenskip_demo_adapter))]
fn demo_adapter() -> Result<Adapter, ModelError> {
    Err(ModelError::NoDemoAdapter)
}

/// An adapter spec: a local directory, or a hub id whose two adapter files are fetched.
pub fn adapter_dir(spec: &str) -> Result<PathBuf, ModelError> {
    let p = Path::new(spec);
    if p.is_dir() {
        return Ok(p.to_path_buf());
    }
    match spec.parse::<ModelSpec>() {
        Ok(ModelSpec::Hub(id)) => hub_snapshot(
            &id,
            &[
                "adapter_config.json".into(),
                "adapter_model.safetensors".into(),
            ],
        ),
        _ => Err(ModelError::Hub(format!(
            "adapter `{spec}` not found: expected a PEFT adapter directory or a hub id"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("demo".parse::<ModelSpec>().unwrap(), ModelSpec::Demo);
        assert_eq!(
            "Qwen/Qwen2.5-7B-Instruct".parse::<ModelSpec>().unwrap(),
            ModelSpec::Hub("Qwen/Qwen2.5-7B-Instruct".into())
        );
        assert!(matches!(
            "./nope/missing".parse::<ModelSpec>(),
            Err(ModelError::NotFound(_))
        ));
        assert!(matches!(
            "missing.gguf".parse::<ModelSpec>(),
            Err(ModelError::NotFound(_))
        ));
        assert!(matches!(
            "src".parse::<ModelSpec>().unwrap(),
            ModelSpec::Dir(_)
        ));
    }

    fn fixture(p: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(p)
    }

    #[test]
    fn tokenizer_alone_matches_the_full_load_and_needs_no_weights() {
        let dir = fixture("tiny-qwen2");
        let full = load(&ModelSpec::Dir(dir.clone()), &LoadOptions::default()).unwrap();
        let alone = load_tokenizer(&ModelSpec::Dir(dir.clone())).unwrap();
        assert_eq!(alone.eos_ids, full.tokenizer.eos_ids);
        assert_eq!(alone.chat_template, full.tokenizer.chat_template);

        // Only tokenizer files and a config of an architecture this crate cannot run.
        let tmp = tempfile::tempdir().unwrap();
        for f in ["tokenizer.json", "tokenizer_config.json"] {
            std::fs::copy(dir.join(f), tmp.path().join(f)).unwrap();
        }
        std::fs::write(
            tmp.path().join("config.json"),
            r#"{"architectures": ["MixtralForCausalLM"], "eos_token_id": [2, 5]}"#,
        )
        .unwrap();
        let spec = ModelSpec::Dir(tmp.path().to_path_buf());
        assert!(load(&spec, &LoadOptions::default()).is_err());
        assert_eq!(load_tokenizer(&spec).unwrap().eos_ids, vec![2, 5]);

        let gguf = fixture("tiny-llama.gguf");
        let full = load(&ModelSpec::Gguf(gguf.clone()), &LoadOptions::default()).unwrap();
        let alone = load_tokenizer(&ModelSpec::Gguf(gguf)).unwrap();
        assert_eq!(alone.eos_ids, full.tokenizer.eos_ids);
        assert_eq!(alone.eos_token, full.tokenizer.eos_token);
    }

    #[test]
    fn offline_cache_miss_names_repo_and_fix() {
        let tmp = tempfile::tempdir().unwrap();
        std::env::set_var("HF_HOME", tmp.path());
        std::env::set_var("HF_HUB_OFFLINE", "1");
        let err = match load(
            &ModelSpec::Hub("acme/nothing-here".into()),
            &LoadOptions::default(),
        ) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("loaded a model from an empty cache"),
        };
        assert!(
            err.contains("acme/nothing-here") && err.contains("huggingface-cli download"),
            "{err}"
        );
    }
}
