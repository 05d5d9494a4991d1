//! Detects whether the embedded demo model has been trained into `assets/demo/`, so that a
//! fresh checkout without it still builds (and `--model demo` then says how to make it);
//! likewise its TokenSkip adapter (`assets/demo/tokenskip-adapter/`, `--adapter demo`).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tokenskip_demo)");
    println!("cargo::rustc-check-cfg=cfg(tokenskip_demo_adapter)");
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
        let adapter = dir.join("tokenskip-adapter");
        if ["adapter_config.json", "adapter_model.safetensors"]
            .iter()
            .all(|f| adapter.join(f).exists())
        {
            println!("cargo::rustc-cfg=tokenskip_demo_adapter");
        }
    }
}
