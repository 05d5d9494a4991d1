//! The decoder-only transformer shared by the Qwen2 and LLaMA families.
//!
//! One implementation serves inference (fused kernels, KV cache, last-position logits),
//! scoring (all-position logits, optional attention weights) and training (differentiable
//! kernels, every linear able to carry LoRA). Weights come from any [`TensorSource`].

use super::attention;
use super::config::ModelConfig;
use super::linear::Linear;
use super::ops::{self, Kernels};
use super::rope::Rope;
use super::weights::{LoadError, TensorSource};
use candle_core::{DType, Device, Result, Tensor, D};

/// One transformer block.
#[derive(Debug, Clone)]
pub struct Block {
    pub input_norm: Tensor,
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub o_proj: Linear,
    pub post_norm: Tensor,
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
}

/// Names of the linear layers of a block, in HF/PEFT spelling.
pub const LINEAR_NAMES: [&str; 7] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
];

impl Block {
    /// The block's linears with their PEFT module names (`self_attn.q_proj`, `mlp.up_proj`, ...).
    pub fn linears_mut(&mut self) -> [(&'static str, &mut Linear); 7] {
        [
            ("self_attn.q_proj", &mut self.q_proj),
            ("self_attn.k_proj", &mut self.k_proj),
            ("self_attn.v_proj", &mut self.v_proj),
            ("self_attn.o_proj", &mut self.o_proj),
            ("mlp.gate_proj", &mut self.gate_proj),
            ("mlp.up_proj", &mut self.up_proj),
            ("mlp.down_proj", &mut self.down_proj),
        ]
    }
}

/// Where the tokens of a forward pass sit in their sequences.
#[derive(Debug, Clone)]
pub enum Positions {
    /// Every row at `offset..offset + t` (one sequence, or a batch without padding).
    Offset(usize),
    /// Per-row positions `[b, t]` (u32), for left-padded batches.
    Rows(Tensor),
}

/// Which logits a forward pass returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logits<'a> {
    /// Only the last position of each row (generation).
    Last,
    /// Every position (scoring, training).
    All,
    /// The last `k` positions of each row (clamped to the row length): scorers that need
    /// log-probs of a few tokens at the end of long batched rows (the counterfactual
    /// scorer's answer line) skip the `[b, t, vocab]` logits of everything before.
    Tail(usize),
    /// These rows of the flattened `[b * t]` positions, as `[rows, vocab]`: the trainer's
    /// labelled positions, so prompt and padding positions cost no output projection (the
    /// largest matmul of a small model) in either pass.
    Rows(&'a [u32]),
}

/// The key/value cache of a generation, one entry per layer.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
}

impl KvCache {
    pub fn new(n_layers: usize) -> Self {
        KvCache {
            layers: vec![None; n_layers],
        }
    }

    /// Number of positions already cached.
    pub fn len(&self) -> usize {
        match self.layers.first() {
            Some(Some((k, _))) => k.dim(2).unwrap_or(0),
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn append(&mut self, layer: usize, k: Tensor, v: Tensor) -> Result<(Tensor, Tensor)> {
        let (k, v) = match self.layers[layer].take() {
            Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
            None => (k, v),
        };
        self.layers[layer] = Some((k.clone(), v.clone()));
        Ok((k, v))
    }
}

/// Inputs of one forward pass beyond the token ids.
#[derive(Debug, Clone)]
pub struct ForwardArgs<'a> {
    pub positions: Positions,
    /// `[b, past + t]` u8, 1 where a key is a real token, 0 for padding.
    pub key_mask: Option<&'a Tensor>,
    pub logits: Logits<'a>,
    /// Return each layer's attention probabilities `[b, heads, t, past + t]`.
    pub attention: bool,
}

impl Default for ForwardArgs<'_> {
    fn default() -> Self {
        ForwardArgs {
            positions: Positions::Offset(0),
            key_mask: None,
            logits: Logits::All,
            attention: false,
        }
    }
}

/// What a forward pass returns.
#[derive(Debug)]
pub struct ForwardOut {
    /// f32 `[b, t, vocab]` (or `[b, 1, vocab]` with [`Logits::Last`], `[b, k, vocab]` with
    /// [`Logits::Tail`]).
    pub logits: Tensor,
    /// Per layer, when asked for.
    pub attention: Vec<Tensor>,
}

/// The attention mask of one forward pass, as `attend` sees it.
struct Mask<'a> {
    b: usize,
    t: usize,
    past: usize,
    /// `[b, past + t]`, 1 where a key is a real token.
    key_mask: Option<&'a Tensor>,
    /// The additive tensor, built on first use ([`Mask::additive`]).
    additive: std::cell::OnceCell<Tensor>,
}

impl<'a> Mask<'a> {
    fn new(b: usize, t: usize, past: usize, key_mask: Option<&'a Tensor>) -> Self {
        Mask {
            b,
            t,
            past,
            key_mask,
            additive: std::cell::OnceCell::new(),
        }
    }

    /// Whether anything is masked: more than one query, or padding keys.
    fn any(&self) -> bool {
        self.t > 1 || self.key_mask.is_some()
    }

    /// No key padding: the mask is the causal one alone, so on the CPU it is applied by
    /// position without the tensor: the blocked attention kernel (`model::attention`,
    /// inference and training), or, when attention maps are asked for,
    /// `ops::causal_softmax_cpu`.
    fn causal_only(&self) -> bool {
        self.key_mask.is_none()
    }

    /// Additive f32 mask `[b or 1, 1, t, past + t]`: 0 where a query may attend, -1e30 where
    /// not (causal, and padding keys). Built once per forward pass, and only when a path
    /// reads it (padding keys, or a device or dtype without the CPU kernels); added with a
    /// broadcast: a `where_cond` against a broadcast fill value walked every score with
    /// strided indexing, a large share of prefill time.
    fn additive(&self, device: &Device) -> Result<&Tensor> {
        if let Some(m) = self.additive.get() {
            return Ok(m);
        }
        let (t, past) = (self.t, self.past);
        let total = past + t;
        const MASKED: f32 = -1e30;
        let causal: Vec<f32> = (0..t)
            .flat_map(|i| (0..total).map(move |j| if j <= past + i { 0.0 } else { MASKED }))
            .collect();
        let causal = Tensor::from_vec(causal, (1, 1, t, total), device)?;
        let mask = match self.key_mask {
            None => causal,
            Some(km) => {
                // 1 -> 0, 0 -> MASKED; the sum of two masked terms stays finite in f32.
                let pad = ((km.to_dtype(DType::F32)? - 1.0)? * (-(MASKED as f64)))?;
                let pad = pad.reshape((self.b, 1, 1, total))?;
                causal.broadcast_add(&pad)?.contiguous()?
            }
        };
        Ok(self.additive.get_or_init(|| mask))
    }
}

/// A Qwen2 / LLaMA decoder.
#[derive(Debug, Clone)]
pub struct Decoder {
    pub cfg: ModelConfig,
    pub embed: Tensor,
    pub blocks: Vec<Block>,
    pub norm: Tensor,
    /// Shares `embed` when the config ties embeddings.
    pub lm_head: Linear,
    pub kernels: Kernels,
    rope: Rope,
    device: Device,
    dtype: DType,
}

impl Decoder {
    /// Builds the decoder from HF-named tensors, converting to `dtype` on `device`.
    pub fn load(
        cfg: ModelConfig,
        src: &dyn TensorSource,
        device: &Device,
        dtype: DType,
    ) -> std::result::Result<Self, LoadError> {
        let h = cfg.hidden_size;
        let (nh, nkv, hd) = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
        );
        let get = |name: &str, shape: &[usize]| -> std::result::Result<Tensor, LoadError> {
            src.tensor(name, shape)?
                .to_device(device)
                .and_then(|t| t.to_dtype(dtype))
                .map_err(|e| LoadError::candle(name, e))
        };
        let linear = |name: &str, out: usize, inp: usize, bias: bool| {
            let weight = get(&format!("{name}.weight"), &[out, inp])?;
            let bias = if bias {
                Some(get(&format!("{name}.bias"), &[out])?)
            } else {
                None
            };
            Ok::<_, LoadError>(Linear::new(weight, bias))
        };
        let embed = get("model.embed_tokens.weight", &[cfg.vocab_size, h])?;
        let mut blocks = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("model.layers.{i}");
            let (ab, mb, im) = (cfg.attention_bias, cfg.mlp_bias, cfg.intermediate_size);
            blocks.push(Block {
                input_norm: get(&format!("{p}.input_layernorm.weight"), &[h])?,
                q_proj: linear(&format!("{p}.self_attn.q_proj"), nh * hd, h, ab)?,
                k_proj: linear(&format!("{p}.self_attn.k_proj"), nkv * hd, h, ab)?,
                v_proj: linear(&format!("{p}.self_attn.v_proj"), nkv * hd, h, ab)?,
                o_proj: linear(&format!("{p}.self_attn.o_proj"), h, nh * hd, false)?,
                post_norm: get(&format!("{p}.post_attention_layernorm.weight"), &[h])?,
                gate_proj: linear(&format!("{p}.mlp.gate_proj"), im, h, mb)?,
                up_proj: linear(&format!("{p}.mlp.up_proj"), im, h, mb)?,
                down_proj: linear(&format!("{p}.mlp.down_proj"), h, im, mb)?,
            });
        }
        let norm = get("model.norm.weight", &[h])?;
        let lm_head = if cfg.tie_word_embeddings {
            Linear::new(embed.clone(), None)
        } else {
            Linear::new(get("lm_head.weight", &[cfg.vocab_size, h])?, None)
        };
        let rope = Rope::new(&cfg, dtype, device).map_err(|e| LoadError::candle("rope", e))?;
        Ok(Decoder {
            cfg,
            embed,
            blocks,
            norm,
            lm_head,
            kernels: Kernels::Fused,
            rope,
            device: device.clone(),
            dtype,
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Runs the decoder on `ids: [b, t]` (u32). With a cache, keys/values are appended to it
    /// and `args.positions`/`args.key_mask` must account for what it already holds.
    pub fn forward(
        &self,
        ids: &Tensor,
        cache: Option<&mut KvCache>,
        args: &ForwardArgs,
    ) -> Result<ForwardOut> {
        let (b, t) = ids.dims2()?;
        let past = cache.as_ref().map_or(0, |c| c.len());
        let (cos, sin) = match &args.positions {
            Positions::Offset(o) => {
                if o + t > self.cfg.max_position_embeddings {
                    candle_core::bail!(
                        "positions {o}..{} exceed the context window of {} tokens",
                        o + t,
                        self.cfg.max_position_embeddings
                    );
                }
                self.rope.at_offset(*o, t)?
            }
            Positions::Rows(p) => self.rope.at_positions(p)?,
        };
        let mask = Mask::new(b, t, past, args.key_mask);
        let mut x = self
            .embed
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, t, ()))?;
        let mut attention = Vec::new();
        let mut cache = cache;
        for (i, block) in self.blocks.iter().enumerate() {
            let residual = &x;
            let h = self
                .kernels
                .rms_norm(&x, &block.input_norm, self.cfg.rms_norm_eps)?;
            let (a, probs) = self.attend(
                block,
                &h,
                &cos,
                &sin,
                &mask,
                cache.as_deref_mut(),
                i,
                args.attention,
            )?;
            if let Some(p) = probs {
                attention.push(p);
            }
            x = (residual + a)?;
            let h = self
                .kernels
                .rms_norm(&x, &block.post_norm, self.cfg.rms_norm_eps)?;
            let gated = self
                .kernels
                .silu_mul(&block.gate_proj.forward(&h)?, &block.up_proj.forward(&h)?)?;
            let m = block.down_proj.forward(&gated)?;
            x = (x + m)?;
        }
        match args.logits {
            Logits::Last => x = x.narrow(1, t - 1, 1)?,
            Logits::Tail(k) if k < t => x = x.narrow(1, t - k, k)?,
            Logits::Tail(_) | Logits::All => {}
            Logits::Rows(rows) => {
                let rows = Tensor::new(rows, &self.device)?;
                x = x.reshape((b * t, ()))?.index_select(&rows, 0)?;
            }
        }
        let x = self
            .kernels
            .rms_norm(&x, &self.norm, self.cfg.rms_norm_eps)?;
        let logits = self.lm_head.forward(&x)?.to_dtype(DType::F32)?;
        Ok(ForwardOut { logits, attention })
    }

    #[allow(clippy::too_many_arguments)]
    fn attend(
        &self,
        block: &Block,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Mask<'_>,
        cache: Option<&mut KvCache>,
        layer: usize,
        want_probs: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let (b, t, _) = x.dims3()?;
        let c = &self.cfg;
        let (nh, nkv, hd) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        let q = block
            .q_proj
            .forward(x)?
            .reshape((b, t, nh, hd))?
            .transpose(1, 2)?;
        let k = block
            .k_proj
            .forward(x)?
            .reshape((b, t, nkv, hd))?
            .transpose(1, 2)?;
        let v = block
            .v_proj
            .forward(x)?
            .reshape((b, t, nkv, hd))?
            .transpose(1, 2)?
            .contiguous()?;
        let q = self.kernels.rope(&q.contiguous()?, cos, sin)?;
        let k = self.kernels.rope(&k.contiguous()?, cos, sin)?;
        let (k, v) = match cache {
            Some(cache) => cache.append(layer, k, v)?,
            None => (k, v),
        };
        let total = k.dim(2)?;
        let scale = 1.0 / (hd as f64).sqrt();
        if mask.causal_only() && mask.any() && !want_probs {
            // The blocked CPU kernel (`model::attention`): inference, or a training node.
            let (q, k, v, scale) = (&q, &k, &v, scale as f32);
            let out = match self.kernels {
                Kernels::Fused => attention::causal_attention_cpu(q, k, v, scale)?,
                Kernels::Differentiable => attention::causal_attention_node(q, k, v, scale)?,
            };
            if let Some(out) = out {
                return Ok((block.o_proj.forward(&out)?, None));
            }
        }
        // Grouped-query attention without copying K/V: fold each group of query heads into
        // the time axis of its shared key/value head.
        let g = c.kv_groups();
        // The 1/sqrt(d) scale goes on q ([.., t, d]) rather than on the scores ([.., t, total]).
        let q = (q.reshape((b, nkv, g * t, hd))? * scale)?;
        let scores = q.matmul(&k.t()?)?;
        // Softmax in f32, as the reference implementations do for half precision; the mask is
        // additive and f32 too, so masked scores stay finite (no NaN on all-padding rows).
        let scores = scores.reshape((b, nh, t, total))?.to_dtype(DType::F32)?;
        let fast = if mask.any() && mask.causal_only() {
            let grad = self.kernels == Kernels::Differentiable;
            ops::causal_softmax_cpu(&scores, total - t, grad)?
        } else {
            None
        };
        let probs = match fast {
            Some(p) => p,
            None if mask.any() => {
                let masked = scores.broadcast_add(mask.additive(&self.device)?)?;
                self.kernels.softmax_last_dim(&masked)?
            }
            None => self.kernels.softmax_last_dim(&scores)?,
        }
        .to_dtype(self.dtype)?;
        let out = probs.reshape((b, nkv, g * t, total))?.matmul(&v)?;
        let out = out
            .reshape((b, nh, t, hd))?
            .transpose(1, 2)?
            .reshape((b, t, nh * hd))?;
        let out = block.o_proj.forward(&out)?;
        Ok((out, want_probs.then_some(probs)))
    }

    /// Ids of the maximum logit along the last dimension of `[b, 1, vocab]` logits.
    pub fn argmax_last(logits: &Tensor) -> Result<Vec<u32>> {
        logits.squeeze(1)?.argmax(D::Minus1)?.to_vec1::<u32>()
    }
}
