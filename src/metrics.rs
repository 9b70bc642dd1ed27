//! Prometheus metrics and the operator's HTTP endpoints, served on their own
//! port: `GET /metrics` (text exposition format 0.0.4), `GET /healthz` (the
//! process is up), `GET /readyz` (the store is open and the server accepts
//! calls). A deliberately small HTTP/1.1 responder: one request per
//! connection, bounded request size, no keep-alive.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// A cumulative histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, output: &mut String, name: &str, help: &str) {
        let _ = writeln!(output, "# HELP {name} {help}");
        let _ = writeln!(output, "# TYPE {name} histogram");
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                output,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(output, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(output, "{name}_sum {sum}");
        let _ = writeln!(output, "{name}_count {count}");
    }
}

/// Gauges read from the store at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreGauges {
    /// Articles waiting in the queue (including those waiting for a retry).
    pub queued: u64,
    /// Leases held by workers.
    pub leased: u64,
    /// Articles in the dead-letter state.
    pub dead_lettered: u64,
    /// Newest feed sequence.
    pub feed_head: u64,
    /// Records changed but not yet in the search index.
    pub search_backlog: u64,
    /// Bytes of the sled database's files.
    pub sled_disk_bytes: u64,
    /// Bytes of the text log's segment files.
    pub text_log_bytes: u64,
    /// Bytes of the write-ahead log (its segments since the last checkpoint).
    pub write_ahead_log_bytes: u64,
    /// Bytes of the value log's segment files (records, reports and feed
    /// events stored out of sled).
    pub value_log_bytes: u64,
}

/// Every counter the server keeps; shared by handlers, workers and the feed.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Submissions stored as new articles.
    pub submitted_created: AtomicU64,
    /// Submissions answered with an existing article.
    pub submitted_duplicate: AtomicU64,
    /// Submissions refused (bad input, limits, auth).
    pub submitted_rejected: AtomicU64,
    /// Articles processed into dialogue records.
    pub processed_dialogue: AtomicU64,
    /// Articles processed as not a dialogue.
    pub processed_not_dialogue: AtomicU64,
    /// Failed attempts reported by workers.
    pub attempts_failed: AtomicU64,
    /// Articles moved to the dead-letter state.
    pub dead_lettered: AtomicU64,
    /// Extraction time per article (in-process workers).
    pub extraction_latency: Histogram,
    /// Time from submission to the article being done.
    pub processing_latency: Histogram,
    subscriber_cursors: Mutex<Vec<(u64, Arc<AtomicU64>)>>,
    next_subscriber: AtomicU64,
}

/// A subscriber's position, reported to the metrics while it is connected.
pub struct SubscriberCursor {
    metrics: Arc<Metrics>,
    id: u64,
    position: Arc<AtomicU64>,
}

impl SubscriberCursor {
    /// Records the last sequence delivered (or skipped by the filter).
    pub fn set(&self, sequence: u64) {
        self.position.store(sequence, Ordering::Relaxed);
    }
}

impl Drop for SubscriberCursor {
    fn drop(&mut self) {
        if let Ok(mut cursors) = self.metrics.subscriber_cursors.lock() {
            cursors.retain(|(id, _)| *id != self.id);
        }
    }
}

impl Metrics {
    /// Registers a subscriber starting after `sequence`.
    pub fn register_subscriber(self: &Arc<Self>, sequence: u64) -> SubscriberCursor {
        let id = self.next_subscriber.fetch_add(1, Ordering::Relaxed);
        let position = Arc::new(AtomicU64::new(sequence));
        if let Ok(mut cursors) = self.subscriber_cursors.lock() {
            cursors.push((id, Arc::clone(&position)));
        }
        SubscriberCursor {
            metrics: Arc::clone(self),
            id,
            position,
        }
    }

    /// Adds one to a counter.
    pub fn increment(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, gauges: StoreGauges) -> String {
        let mut output = String::with_capacity(4096);
        let counter = |output: &mut String, name: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(output, "# HELP {name} {help}");
            let _ = writeln!(output, "# TYPE {name} counter");
            for (labels, value) in samples {
                if labels.is_empty() {
                    let _ = writeln!(output, "{name} {value}");
                } else {
                    let _ = writeln!(output, "{name}{{{labels}}} {value}");
                }
            }
        };
        let gauge = |output: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(output, "# HELP {name} {help}");
            let _ = writeln!(output, "# TYPE {name} gauge");
            let _ = writeln!(output, "{name} {value}");
        };
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        counter(
            &mut output,
            "dialogwatch_articles_submitted_total",
            "Article submissions by result.",
            &[
                ("result=\"created\"", load(&self.submitted_created)),
                ("result=\"duplicate\"", load(&self.submitted_duplicate)),
                ("result=\"rejected\"", load(&self.submitted_rejected)),
            ],
        );
        counter(
            &mut output,
            "dialogwatch_articles_processed_total",
            "Articles processed by outcome.",
            &[
                ("outcome=\"dialogue\"", load(&self.processed_dialogue)),
                (
                    "outcome=\"not_dialogue\"",
                    load(&self.processed_not_dialogue),
                ),
            ],
        );
        counter(
            &mut output,
            "dialogwatch_attempts_failed_total",
            "Failed processing attempts reported by workers.",
            &[("", load(&self.attempts_failed))],
        );
        counter(
            &mut output,
            "dialogwatch_articles_dead_lettered_total",
            "Articles moved to the dead-letter state.",
            &[("", load(&self.dead_lettered))],
        );
        gauge(
            &mut output,
            "dialogwatch_queue_depth",
            "Articles waiting to be processed.",
            gauges.queued,
        );
        gauge(
            &mut output,
            "dialogwatch_leases_outstanding",
            "Leases held by workers.",
            gauges.leased,
        );
        gauge(
            &mut output,
            "dialogwatch_dead_letters",
            "Articles in the dead-letter state.",
            gauges.dead_lettered,
        );
        gauge(
            &mut output,
            "dialogwatch_feed_head_sequence",
            "Newest feed sequence.",
            gauges.feed_head,
        );
        gauge(
            &mut output,
            "dialogwatch_search_backlog_records",
            "Records changed but not yet in the search index (a search indexes them first).",
            gauges.search_backlog,
        );
        let _ = writeln!(
            output,
            "# HELP dialogwatch_store_disk_bytes Bytes on disk of the data directory, by part."
        );
        let _ = writeln!(output, "# TYPE dialogwatch_store_disk_bytes gauge");
        let _ = writeln!(
            output,
            "dialogwatch_store_disk_bytes{{part=\"sled\"}} {}",
            gauges.sled_disk_bytes
        );
        let _ = writeln!(
            output,
            "dialogwatch_store_disk_bytes{{part=\"text_log\"}} {}",
            gauges.text_log_bytes
        );
        let _ = writeln!(
            output,
            "dialogwatch_store_disk_bytes{{part=\"write_ahead_log\"}} {}",
            gauges.write_ahead_log_bytes
        );
        let _ = writeln!(
            output,
            "dialogwatch_store_disk_bytes{{part=\"value_log\"}} {}",
            gauges.value_log_bytes
        );
        let (subscribers, max_lag, total_lag) = self.subscriber_lag(gauges.feed_head);
        gauge(
            &mut output,
            "dialogwatch_subscribers",
            "Connected WatchDialogues subscribers.",
            subscribers,
        );
        gauge(
            &mut output,
            "dialogwatch_subscriber_lag_max_events",
            "Feed events the furthest-behind subscriber has yet to receive.",
            max_lag,
        );
        gauge(
            &mut output,
            "dialogwatch_subscriber_lag_events_sum",
            "Feed events all subscribers together have yet to receive.",
            total_lag,
        );
        self.processing_latency.render(
            &mut output,
            "dialogwatch_processing_duration_seconds",
            "Time from submission until the article is processed.",
        );
        self.extraction_latency.render(
            &mut output,
            "dialogwatch_extraction_duration_seconds",
            "Extraction time per article in in-process workers.",
        );
        output
    }

    fn subscriber_lag(&self, head: u64) -> (u64, u64, u64) {
        let Ok(cursors) = self.subscriber_cursors.lock() else {
            return (0, 0, 0);
        };
        let lags = cursors
            .iter()
            .map(|(_, position)| head.saturating_sub(position.load(Ordering::Relaxed)));
        let (max_lag, total_lag) = lags.fold((0, 0), |(max_lag, total), lag| {
            (max_lag.max(lag), total + lag)
        });
        (cursors.len() as u64, max_lag, total_lag)
    }
}

/// What the HTTP endpoints need.
#[derive(Clone)]
pub struct HttpState {
    /// The counters.
    pub metrics: Arc<Metrics>,
    /// Reads the store gauges.
    pub gauges: Arc<
        dyn Fn() -> futures_util::future::BoxFuture<'static, Option<StoreGauges>> + Send + Sync,
    >,
    /// Cancelled when the server starts shutting down (readiness goes false).
    pub stopping: CancellationToken,
}

/// Largest request head read.
const MAX_REQUEST_BYTES: usize = 8192;

/// Serves the endpoints until `shutdown` is cancelled.
pub async fn serve_http(listener: TcpListener, state: HttpState, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), respond(stream, state)).await;
        });
    }
}

async fn respond(mut stream: tokio::net::TcpStream, state: HttpState) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        request.extend_from_slice(chunk.get(..read).unwrap_or_default());
        if request.len() > MAX_REQUEST_BYTES {
            return write_response(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "too large\n",
            )
            .await;
        }
    }
    let head = String::from_utf8_lossy(&request);
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return write_response(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "use GET\n",
        )
        .await;
    }
    let path = target.split('?').next().unwrap_or("");
    match path {
        "/metrics" => {
            let gauges = (state.gauges)().await.unwrap_or_default();
            let body = state.metrics.render(gauges);
            write_response(
                &mut stream,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &body,
            )
            .await
        }
        "/healthz" => write_response(&mut stream, "200 OK", "text/plain", "ok\n").await,
        "/readyz" => {
            let store_answers = (state.gauges)().await.is_some();
            if store_answers && !state.stopping.is_cancelled() {
                write_response(&mut stream, "200 OK", "text/plain", "ready\n").await
            } else {
                write_response(
                    &mut stream,
                    "503 Service Unavailable",
                    "text/plain",
                    "not ready\n",
                )
                .await
            }
        }
        _ => write_response(&mut stream, "404 Not Found", "text/plain", "not found\n").await,
    }
}

async fn write_response(
    stream: &mut tokio::net::TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_secs(2));
        let mut output = String::new();
        histogram.render(&mut output, "x_seconds", "help");
        assert!(output.contains("x_seconds_bucket{le=\"0.005\"} 1"));
        assert!(output.contains("x_seconds_bucket{le=\"2.5\"} 2"));
        assert!(output.contains("x_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(output.contains("x_seconds_count 2"));
    }

    #[test]
    fn subscriber_lag_follows_cursors_and_disconnects() {
        let metrics = Arc::new(Metrics::default());
        let slow = metrics.register_subscriber(2);
        let fast = metrics.register_subscriber(9);
        assert_eq!(metrics.subscriber_lag(10), (2, 8, 9));
        fast.set(10);
        drop(slow);
        assert_eq!(metrics.subscriber_lag(10), (1, 0, 0));
    }
}
