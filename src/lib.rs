//! # dialogwatch
//!
//! Turns Vietnamese news articles about Vietnam's bilateral defence diplomacy
//! into a live, queryable, streamable record of dialogue events.
//!
//! ```text
//! submit ─► ArticleService ─► store (sled, flushed before the ack) ─► queue
//!                                                                   │ lease
//!        in-process workers (workers.rs) or remote `dialogwatch worker`
//!                                                                   │ complete
//! subscribers ◄─ feed.rs (backlog from the feed log, then live) ◄─ merge + feed log
//! ```
//!
//! ## Map
//! - [`server::run`]: binds services, health, reflection, workers; ordered shutdown.
//!   [`coalesce`]: the connections' writes, one socket write per poll.
//! - [`api`]: the gRPC handlers; [`convert`]: proto ⇄ domain at the edge;
//!   [`error`]: the one `ApiError` → `tonic::Status` mapping.
//! - [`domain`]: the types handlers and the store speak.
//! - [`store`]: sled behind domain verbs (enqueue, lease, complete, read_feed_from,
//!   list_dialogues, search_dialogues, stats, reindex…); records are recomputed
//!   from every report (`store::merge`), listed from secondary indexes
//!   (`store::index`) and searched in an inverted index (`store::search`)
//!   that a background indexer writes in segments; article texts are appended
//!   to a text log beside sled (`store::texts`).
//! - [`feed`]: WatchDialogues producers over the feed log and a head watch;
//!   the newest events are shared in memory and encoded once for everyone.
//! - [`workers`]: the in-process and gRPC job sources of the worker loop.
//! - [`cli`]: the `dialogwatch` command line.
//! - [`allocator`]: jemalloc as every binary's allocator (feature `jemalloc`,
//!   on by default), and its options.
//! - The extraction engine is the `dialogwatch-worker` crate.

pub mod allocator;
pub mod api;
pub mod auth;
pub mod cli;
pub mod client;
pub mod coalesce;
pub mod convert;
pub mod domain;
pub mod error;
pub mod feed;
pub mod metrics;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod workers;

pub mod proto {
    //! Generated gRPC types of `proto/dialogwatch/v1`.
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("dialogwatch.v1");
    /// Encoded descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("dialogwatch_descriptor");

    pub mod encoded_feed {
        //! The server side of `DialogueService` whose `WatchDialogues` streams
        //! [`crate::feed::EncodedFeedEvent`]s: messages encoded once per event.
        include!(concat!(env!("OUT_DIR"), "/encoded_feed/dialogwatch.v1.rs"));
    }

    pub mod unvalidated {
        //! The server side of `ArticleService` whose requests carry the
        //! article body as bytes: `ArticleContent.text` and `.html` are
        //! proto `string`s on the wire, decoded here without prost's UTF-8
        //! check, which [`crate::convert`] makes (SIMD) and reports as
        //! `INVALID_ARGUMENT` on the field.
        include!(concat!(env!("OUT_DIR"), "/unvalidated/dialogwatch.v1.rs"));
    }
}

pub use server::{run, run_with_metrics, ServerConfig};
pub use store::{Store, StoreConfig};
