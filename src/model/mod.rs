//! The model runtime: config, weights (safetensors, GGUF, hub), a Qwen2/LLaMA decoder whose
//! linears carry LoRA, tokenizer and chat template, generation and all-position scoring.

pub mod attach;
pub mod attention;
pub mod config;
pub mod cpu;
pub mod decoder;
pub mod device;
pub mod generate;
pub mod gguf;
pub mod linear;
pub mod lora;
pub mod matmul;
pub mod ops;
pub mod rope;
pub mod score;
pub mod source;
pub mod tokenizer;
pub mod vmath;
pub mod weights;
pub mod xent;

pub use config::{Arch, ModelConfig};
pub use decoder::{Decoder, ForwardArgs, KvCache, Logits, Positions};
pub use generate::{
    generate, generate_batch_greedy, GenerateParams, Generation, Sampling, StopReason,
};
pub use source::{
    has_demo_adapter, load, load_tokenizer, open_adapter, LoadOptions, LoadedModel, ModelError,
    ModelSpec, DEMO_ADAPTER,
};
pub use tokenizer::{ChatTokenizer, PromptFormat};
