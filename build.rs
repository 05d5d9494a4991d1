//! Detects whether the embedded demo model has been trained into `assets/demo/`, so that a
//! fresh checkout without it still builds (and `--model demo` then says how to make it).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tokenskip_demo)");
    println!("cargo::rerun-if-changed=assets/demo");
    let dir = std::path::Path::new("assets/demo");
    let complete = [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    .iter()
    .all(|f| dir.join(f).exists());
    if complete {
        println!("cargo::rustc-cfg=tokenskip_demo");
    }
}
