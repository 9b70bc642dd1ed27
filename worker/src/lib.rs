//! # dialogwatch-worker
//!
//! The extraction engine of dialogwatch as pure synchronous code (no tokio,
//! sled or tonic), plus the worker loop that drives it over a [`runner::JobSource`].
//!
//! ## Map
//! - [`record`]: the dialogue record of SPEC §2 (serde form = the JSON contract).
//! - [`clean`]: boilerplate removal, HTML to text, embedded source URL.
//! - [`normalize`]: Unicode NFC, tone-mark placement, tokenised punctuation, spaces.
//! - [`gazetteer`]: countries with their Vietnamese names and spellings.
//! - [`numbers`]: Vietnamese number words and Roman numerals.
//! - [`extract`]: the [`Extractor`] — text in, [`record::Extraction`] out, with evidence.
//! - [`runner`]: the worker loop: lease, extract (panics caught), complete or fail.

pub mod clean;
pub mod dates;
pub mod extract;
pub mod gazetteer;
pub mod normalize;
pub mod numbers;
pub mod record;
pub mod runner;

pub use extract::{ArticleInput, Explanation, Extractor};
pub use record::{DialogueEvent, Extraction, PartialDate};
