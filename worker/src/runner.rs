//! The worker loop: lease articles from a [`JobSource`], extract each one
//! (a panic in the extractor is caught and reported as that article's
//! failure), then complete or fail it. The same loop runs in-process over the
//! server's queue and in a remote process over the gRPC lease API.

use crate::extract::{ArticleInput, Extractor};
use crate::record::{Extraction, PartialDate};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// One leased article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The article's id.
    pub article_id: String,
    /// Identifies this lease; completing with a stale lease is refused by the source.
    pub lease_id: String,
    /// 1 for the first delivery, 2 for the first retry, ….
    pub attempt: u32,
    /// Article body (plain text or HTML).
    pub text: String,
    /// True when `text` is HTML.
    pub is_html: bool,
    /// Submitted URL.
    pub url: Option<String>,
    /// Submitted publication date.
    pub published_at: Option<PartialDate>,
    /// Submitted headline.
    pub title: Option<String>,
}

impl Job {
    /// The extractor's view of this job.
    pub fn input(&self) -> ArticleInput<'_> {
        ArticleInput {
            text: &self.text,
            is_html: self.is_html,
            url: self.url.as_deref(),
            published_at: self.published_at,
            title: self.title.as_deref(),
        }
    }
}

/// Where jobs come from and where their results go. Every method may block.
pub trait JobSource {
    /// A failure that stops the loop (the source is gone or shutting down).
    type Error: std::error::Error;

    /// Leases up to `max_jobs`, waiting a bounded time for work. An empty batch
    /// is normal (nothing to do yet); the loop then checks [`JobSource::should_stop`].
    fn lease(&mut self, max_jobs: usize) -> Result<Vec<Job>, Self::Error>;

    /// Records a successful extraction.
    fn complete(&mut self, job: &Job, extraction: Extraction) -> Result<(), Self::Error>;

    /// [`JobSource::complete`], given also the cleaned text the extraction
    /// was made from when the extractor kept it ([`Extract::extract_keeping_text`]):
    /// a source that would clean the article again (the server's own queue,
    /// which indexes that text) may take it instead. By default it is dropped.
    fn complete_with_text(
        &mut self,
        job: &Job,
        extraction: Extraction,
        cleaned_text: Option<String>,
    ) -> Result<(), Self::Error> {
        drop(cleaned_text);
        self.complete(job, extraction)
    }

    /// Records a failed attempt; the source retries with backoff or dead-letters.
    fn fail(&mut self, job: &Job, error: &str) -> Result<(), Self::Error>;

    /// True once the loop should return.
    fn should_stop(&self) -> bool;

    /// Told how long each extraction took (for metrics); does nothing by default.
    fn extraction_finished(&mut self, _job: &Job, _elapsed: Duration) {}
}

/// What one run of the loop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Articles completed.
    pub completed: u64,
    /// Articles failed (including caught panics).
    pub failed: u64,
}

/// Anything that turns an article into an [`Extraction`]: the [`Extractor`],
/// or in tests an engine that misbehaves on purpose.
pub trait Extract {
    /// Extracts one article.
    fn extract(&self, input: &ArticleInput<'_>) -> Extraction;

    /// [`Extract::extract`], with the cleaned text the extraction's evidence
    /// points into when the engine has it (`None` by default).
    fn extract_keeping_text(&self, input: &ArticleInput<'_>) -> (Extraction, Option<String>) {
        (self.extract(input), None)
    }
}

impl Extract for Extractor {
    fn extract(&self, input: &ArticleInput<'_>) -> Extraction {
        Extractor::extract(self, input)
    }

    fn extract_keeping_text(&self, input: &ArticleInput<'_>) -> (Extraction, Option<String>) {
        let explanation = self.explain(input);
        (explanation.extraction, Some(explanation.cleaned.text))
    }
}

/// Runs one extraction, turning a panic into an error message.
pub fn extract_catching_panics<E: Extract + ?Sized>(
    extractor: &E,
    job: &Job,
) -> Result<Extraction, String> {
    catch_unwind(AssertUnwindSafe(|| extractor.extract(&job.input()))).map_err(panic_message)
}

/// [`extract_catching_panics`] with [`Extract::extract_keeping_text`].
pub fn extract_keeping_text_catching_panics<E: Extract + ?Sized>(
    extractor: &E,
    job: &Job,
) -> Result<(Extraction, Option<String>), String> {
    catch_unwind(AssertUnwindSafe(|| {
        extractor.extract_keeping_text(&job.input())
    }))
    .map_err(panic_message)
}

/// The error message of an extractor's panic.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string());
    format!("extractor panicked: {message}")
}

/// Leases, extracts and completes until the source says stop or fails.
pub fn run_worker<S: JobSource, E: Extract + ?Sized>(
    source: &mut S,
    extractor: &E,
    batch_size: usize,
) -> Result<WorkerStats, S::Error> {
    let mut stats = WorkerStats::default();
    while !source.should_stop() {
        let jobs = source.lease(batch_size.max(1))?;
        for job in jobs {
            let span = tracing::info_span!(
                "article.process",
                article_id = %job.article_id,
                attempt = job.attempt
            );
            let _entered = span.enter();
            let started = Instant::now();
            let extracted = extract_keeping_text_catching_panics(extractor, &job);
            source.extraction_finished(&job, started.elapsed());
            match extracted {
                Ok((extraction, cleaned_text)) => {
                    source.complete_with_text(&job, extraction, cleaned_text)?;
                    stats.completed += 1;
                }
                Err(error) => {
                    source.fail(&job, &error)?;
                    stats.failed += 1;
                }
            }
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A source over a fixed list, recording what the loop did.
    struct ListSource {
        pending: VecDeque<Job>,
        completed: Vec<String>,
        failed: Vec<(String, String)>,
        /// The cleaned texts handed over with the completions.
        texts: Vec<Option<String>>,
    }

    impl JobSource for ListSource {
        type Error = std::io::Error;
        fn lease(&mut self, max_jobs: usize) -> Result<Vec<Job>, Self::Error> {
            let count = max_jobs.min(self.pending.len());
            Ok(self.pending.drain(..count).collect())
        }
        fn complete(&mut self, job: &Job, _extraction: Extraction) -> Result<(), Self::Error> {
            self.completed.push(job.article_id.clone());
            Ok(())
        }
        fn complete_with_text(
            &mut self,
            job: &Job,
            extraction: Extraction,
            cleaned_text: Option<String>,
        ) -> Result<(), Self::Error> {
            self.texts.push(cleaned_text);
            self.complete(job, extraction)
        }
        fn fail(&mut self, job: &Job, error: &str) -> Result<(), Self::Error> {
            self.failed
                .push((job.article_id.clone(), error.to_string()));
            Ok(())
        }
        fn should_stop(&self) -> bool {
            self.pending.is_empty()
        }
    }

    fn job(article_id: &str, text: &str) -> Job {
        Job {
            article_id: article_id.to_string(),
            lease_id: format!("lease-{article_id}"),
            attempt: 1,
            text: text.to_string(),
            is_html: false,
            url: None,
            published_at: None,
            title: None,
        }
    }

    /// Panics on articles that ask for it.
    struct Explosive;

    impl Extract for Explosive {
        fn extract(&self, input: &ArticleInput<'_>) -> Extraction {
            if input.text.contains("PANIC") {
                panic!("asked to panic");
            }
            Extraction::not_dialogue("fine")
        }
    }

    #[test]
    fn a_panicking_extraction_fails_only_its_own_article() {
        let mut source = ListSource {
            pending: [job("a", "ok"), job("b", "PANIC"), job("c", "ok")].into(),
            completed: Vec::new(),
            failed: Vec::new(),
            texts: Vec::new(),
        };
        let stats = run_worker(&mut source, &Explosive, 3).expect("list source never fails");
        assert_eq!(
            stats,
            WorkerStats {
                completed: 2,
                failed: 1
            }
        );
        assert_eq!(source.completed, ["a", "c"]);
        assert_eq!(source.failed.len(), 1);
        assert!(source.failed[0]
            .1
            .contains("extractor panicked: asked to panic"));
        assert_eq!(source.texts, [None, None], "this engine keeps no text");
    }

    #[test]
    fn the_extractor_hands_over_the_text_it_cleaned() {
        let mut html = job("a", "<p>Bộ trưởng Quốc phòng&nbsp;hội đàm</p>");
        html.is_html = true;
        html.title = Some("Hội đàm quốc phòng".to_string());
        let mut source = ListSource {
            pending: [
                html.clone(),
                job("b", "  Đối thoại chính sách quốc phòng  "),
            ]
            .into(),
            completed: Vec::new(),
            failed: Vec::new(),
            texts: Vec::new(),
        };
        let extractor = Extractor::new();
        run_worker(&mut source, &extractor, 2).expect("list source never fails");
        let expected: Vec<Option<String>> = [html, job("b", "  Đối thoại chính sách quốc phòng  ")]
            .iter()
            .map(|job| Some(extractor.explain(&job.input()).cleaned.text))
            .collect();
        assert_eq!(source.texts, expected);
        assert!(source
            .texts
            .iter()
            .flatten()
            .all(|text| !text.contains('<')));
    }

    #[test]
    fn the_loop_completes_every_leased_job() {
        let mut source = ListSource {
            pending: (0..5)
                .map(|index| job(&index.to_string(), "Hà Nội"))
                .collect(),
            completed: Vec::new(),
            failed: Vec::new(),
            texts: Vec::new(),
        };
        let stats = run_worker(&mut source, &Extractor::new(), 2).expect("list source never fails");
        assert_eq!(stats.completed, 5);
        assert_eq!(source.completed, ["0", "1", "2", "3", "4"]);
        assert!(source.failed.is_empty());
    }
}
