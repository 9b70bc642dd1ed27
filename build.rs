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
    write_unvalidated_articles(&descriptor_set, &out_dir)?;
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

/// The messages whose article body the server decodes as bytes.
const UNVALIDATED_MESSAGES: [&str; 2] = ["ArticleContent", "SubmitArticleRequest"];

/// The server side of ArticleService once more, with `ArticleContent`'s
/// `text` and `html` decoded as bytes (`crate::proto::unvalidated`): the
/// same wire format (a proto3 `string` and `bytes` are both length-delimited),
/// but the text's UTF-8 is checked at the edge (`convert.rs`, SIMD) instead
/// of by prost's `str::from_utf8`, a fifth of the CPU of a bulk submission,
/// and a bad one is an `INVALID_ARGUMENT` naming the field instead of an
/// undecodable message. Every other message is the one generated above.
fn write_unvalidated_articles(
    descriptor_set: &prost_types::FileDescriptorSet,
    out_dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let directory = out_dir.join("unvalidated");
    std::fs::create_dir_all(&directory)?;
    let mut articles = descriptor_set
        .file
        .iter()
        .find(|file| file.name() == "dialogwatch/v1/articles.proto")
        .cloned()
        .ok_or("articles.proto is not in the descriptor set")?;
    let mut changed = 0;
    for message in &mut articles.message_type {
        if message.name() != "ArticleContent" {
            continue;
        }
        for field in &mut message.field {
            if matches!(field.name(), "text" | "html") {
                field.set_type(prost_types::field_descriptor_proto::Type::Bytes);
                changed += 1;
            }
        }
    }
    if changed != 2 {
        return Err("ArticleContent has no string fields `text` and `html`".into());
    }
    let mut builder = tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(&directory);
    for file in &descriptor_set.file {
        let names = file
            .message_type
            .iter()
            .map(|message| message.name())
            .chain(file.enum_type.iter().map(|item| item.name()));
        for name in names {
            if !UNVALIDATED_MESSAGES.contains(&name) {
                builder = builder.extern_path(
                    format!(".{}.{name}", file.package()),
                    format!("crate::proto::{name}"),
                );
            }
        }
    }
    builder.compile_fds(prost_types::FileDescriptorSet {
        file: vec![articles],
    })?;
    Ok(())
}
