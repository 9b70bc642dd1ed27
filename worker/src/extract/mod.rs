//! The extractor: cleaned text in, dialogue events out, every field with the
//! character span of its evidence.

use crate::clean::{clean_article, CleanedArticle};
use crate::record::{Extraction, PartialDate};

/// One article to extract.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArticleInput<'a> {
    /// The article body, plain text or HTML.
    pub text: &'a str,
    /// True when `text` is HTML.
    pub is_html: bool,
    /// The URL it was published at, when known.
    pub url: Option<&'a str>,
    /// Its publication date, used for the year when the text gives none.
    pub published_at: Option<PartialDate>,
    /// Its headline, when submitted separately from the body.
    pub title: Option<&'a str>,
}

/// The extraction together with the cleaned text its evidence points into.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The cleaned article.
    pub cleaned: CleanedArticle,
    /// What was extracted.
    pub extraction: Extraction,
}

/// The extraction engine. Build once (automata are compiled in `new`), share freely.
#[derive(Debug, Default)]
pub struct Extractor {}

impl Extractor {
    /// Builds the engine.
    pub fn new() -> Self {
        Extractor {}
    }

    /// Extracts the dialogue events of one article.
    pub fn extract(&self, input: &ArticleInput<'_>) -> Extraction {
        self.explain(input).extraction
    }

    /// Extracts and returns the cleaned text as well (for `dialogwatch explain`, for search).
    pub fn explain(&self, input: &ArticleInput<'_>) -> Explanation {
        let cleaned = clean_article(input.text, input.is_html);
        let extraction = Extraction::not_dialogue("extractor not implemented");
        Explanation {
            cleaned,
            extraction,
        }
    }
}
