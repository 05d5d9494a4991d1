//! Supervised fine-tuning (LoRA and full) on the decoder of `model/`.

pub mod checkpoint;
pub mod data;
pub mod export;
pub mod init;
pub mod optim;
pub mod params;
pub mod run;
pub mod save;
pub mod schedule;
