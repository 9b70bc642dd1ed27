//! Compiles `proto/` with protox (pure Rust: no system `protoc`) and
//! tonic-prost-build, and writes the descriptor set used by gRPC reflection.

use prost::Message;
use std::path::PathBuf;

const PROTO_ROOT: &str = "proto";
const PROTO_FILES: &[&str] = &[
    "proto/dialogwatch/v1/records.proto",
    "proto/dialogwatch/v1/articles.proto",
    "proto/dialogwatch/v1/dialogues.proto",
    "proto/dialogwatch/v1/worker.proto",
    "proto/dialogwatch/v1/admin.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    for file in PROTO_FILES {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptor_set = protox::compile(PROTO_FILES, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("dialogwatch_descriptor.bin"),
        descriptor_set.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptor_set.clone())?;
    // The server side of DialogueService once more, with its feed events
    // streamed as pre-encoded messages (`crate::feed::EncodedFeedEvent`:
    // encoded once per event, shared by every subscriber); every other type
    // is the one generated above.
    let encoded_feed_dir = out_dir.join("encoded_feed");
    std::fs::create_dir_all(&encoded_feed_dir)?;
    let dialogues_only = prost_types::FileDescriptorSet {
        file: descriptor_set
            .file
            .into_iter()
            .filter(|file| file.name() == "dialogwatch/v1/dialogues.proto")
            .collect(),
    };
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(&encoded_feed_dir)
        .extern_path(".dialogwatch.v1", "crate::proto")
        .extern_path(".dialogwatch.v1.FeedEvent", "crate::feed::EncodedFeedEvent")
        .compile_fds(dialogues_only)?;
    Ok(())
}
