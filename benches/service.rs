//! Service benchmarks of dialogwatch (issue 6): one run, one machine, one table.
//!
//! ```sh
//! cargo bench --bench service                      # every section
//! cargo bench --bench service -- ingest e2e        # some sections
//! BENCH_SECTIONS=catchup BENCH_CATCHUP_EVENTS=1000000 cargo bench --bench service
//! bench/run.sh                                     # the peers (underthesea, JetStream), then this
//! ```
//!
//! Sections: `extract`, `fsync`, `sled` (sled's insert rate on the dialogue
//! index's own keys: the ceiling of a completion's index upkeep), `ingest`,
//! `grpc`, `e2e`, `fanout`, `catchup` (catch-up replay, ListDialogues pages on
//! the same store, peak RSS under load and bytes on disk per article).
//! The servers run in this process (`dialogwatch::run` on 127.0.0.1:0) over
//! temporary data directories under `BENCH_TMPDIR` (default: the system temp
//! directory; it must be on the real disk, not tmpfs, for the durability figures
//! to mean anything). Peer figures come from the `key=value` file named by
//! `DIALOGWATCH_BENCH_PEERS` (written by `bench/run.sh`).
//!
//! Settings (environment): `BENCH_ROUNDS` (3), `BENCH_SECONDS` per round (3),
//! `BENCH_BULK_BATCH` (1000), `BENCH_INGEST_CLIENTS` (1,16,64: the unary ingest phases;
//! empty for none), `BENCH_BULK_STREAMS` (1,4: the bulk phases' concurrent streams),
//! `BENCH_E2E_RATES` (1000,100 per s), `BENCH_E2E_SECONDS` (5),
//! `BENCH_FANOUT_SUBSCRIBERS` (1000), `BENCH_FANOUT_RATES` (100,10 per s),
//! `BENCH_FANOUT_SECONDS` (3), `BENCH_CATCHUP_EVENTS` (100000), `BENCH_CATCHUP_ARTICLE_BYTES`
//! (0 = whole articles; cut stored catch-up articles to this many bytes), `BENCH_CATCHUP_DIR`
//! (build the catch-up store there and keep it; a later run with the same settings reuses it),
//! `BENCH_EXTRACT_REPEAT` (20), `BENCH_WORKERS` (in-process workers of the e2e server;
//! default: the number of cores), `BENCH_SERVER_BINARY` (the `dialogwatch` that the
//! catch-up and fan-out sections start; default: this build's).
//!
//! Nothing here asserts on time: it measures and prints.

use anyhow::{anyhow, bail, Context};
use dialogwatch::domain::{ArticleId, NewArticle};
use dialogwatch::proto;
use dialogwatch::proto::article_service_client::ArticleServiceClient;
use dialogwatch::proto::article_service_server::{ArticleService, ArticleServiceServer};
use dialogwatch::proto::unvalidated::article_service_server::{
    ArticleService as UnvalidatedArticleService,
    ArticleServiceServer as UnvalidatedArticleServiceServer,
};
use dialogwatch::server::ServerError;
use dialogwatch::{ServerConfig, Store, StoreConfig};
use dialogwatch_worker::record::{DialogueEvent, DialogueKind, Extraction, Location, Partner};
use dialogwatch_worker::{ArticleInput, Extractor};
use futures_util::StreamExt;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

/// Every section, in the order they run.
const ALL_SECTIONS: [&str; 8] = [
    "extract", "fsync", "sled", "ingest", "grpc", "e2e", "fanout", "catchup",
];

/// Partners of the generated dialogue articles: (Vietnamese name, ISO code).
const PARTNERS: [(&str, &str); 20] = [
    ("Singapore", "SG"),
    ("Ấn Độ", "IN"),
    ("Nhật Bản", "JP"),
    ("Hàn Quốc", "KR"),
    ("Australia", "AU"),
    ("Pháp", "FR"),
    ("Đức", "DE"),
    ("Nga", "RU"),
    ("Hoa Kỳ", "US"),
    ("Anh", "GB"),
    ("Indonesia", "ID"),
    ("Malaysia", "MY"),
    ("Thái Lan", "TH"),
    ("Philippines", "PH"),
    ("Lào", "LA"),
    ("Campuchia", "KH"),
    ("Israel", "IL"),
    ("Canada", "CA"),
    ("New Zealand", "NZ"),
    ("Ba Lan", "PL"),
];

/// How long to wait for records to arrive after the last submission.
const DRAIN_PATIENCE: Duration = Duration::from_secs(20);
/// How long a child server may take to open its store and listen: sled
/// reads its whole log at open (38 s for the 1,000,000-event catch-up store).
const OPEN_PATIENCE: Duration = Duration::from_secs(600);

/// What to run and how long.
struct Settings {
    sections: BTreeSet<String>,
    rounds: usize,
    seconds: f64,
    bulk_batch: usize,
    e2e_rates: Vec<u64>,
    ingest_clients: Vec<u64>,
    bulk_streams: Vec<u64>,
    e2e_seconds: f64,
    fanout_subscribers: usize,
    fanout_rates: Vec<u64>,
    fanout_seconds: f64,
    catchup_events: usize,
    /// Article text kept per catch-up article (bytes; 0: whole articles).
    catchup_article_bytes: usize,
    /// A data directory to build the catch-up store in and keep (reused by
    /// later runs with the same settings), instead of a temporary one.
    catchup_dir: Option<PathBuf>,
    extract_repeat: usize,
    temp_root: PathBuf,
    peers: HashMap<String, String>,
    peers_source: Option<PathBuf>,
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| anyhow!("{name}={text:?} is not a number")),
        Err(_) => Ok(default),
    }
}

/// A comma-separated list of rates (per second), each at least 1.
fn env_rates(name: &str, default: &[u64]) -> anyhow::Result<Vec<u64>> {
    let Ok(text) = std::env::var(name) else {
        return Ok(default.to_vec());
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|rate| {
            rate.trim()
                .parse::<u64>()
                .map(|rate| rate.max(1))
                .map_err(|_| anyhow!("{name}={text:?} is not a list of numbers"))
        })
        .collect()
}

impl Settings {
    fn from_environment() -> anyhow::Result<Settings> {
        // `cargo bench` passes `--bench`; other words are section names.
        let mut sections: BTreeSet<String> = std::env::args()
            .skip(1)
            .filter(|argument| !argument.starts_with('-'))
            .collect();
        if let Ok(listed) = std::env::var("BENCH_SECTIONS") {
            sections.extend(
                listed
                    .split([',', ' '])
                    .filter(|name| !name.is_empty())
                    .map(str::to_string),
            );
        }
        if sections.is_empty() || sections.contains("all") {
            sections = ALL_SECTIONS.iter().map(|name| name.to_string()).collect();
        }
        if let Some(unknown) = sections
            .iter()
            .find(|name| !ALL_SECTIONS.contains(&name.as_str()))
        {
            bail!(
                "unknown section {unknown:?}; sections: {}",
                ALL_SECTIONS.join(", ")
            );
        }
        let peers_source = std::env::var_os("DIALOGWATCH_BENCH_PEERS").map(PathBuf::from);
        let peers = match &peers_source {
            Some(path) => read_peers(path)?,
            None => HashMap::new(),
        };
        Ok(Settings {
            sections,
            rounds: env_number("BENCH_ROUNDS", 3usize)?.max(1),
            seconds: env_number("BENCH_SECONDS", 3.0f64)?.max(0.1),
            bulk_batch: env_number("BENCH_BULK_BATCH", 1000usize)?.clamp(1, 10_000),
            e2e_rates: env_rates("BENCH_E2E_RATES", &[1000, 100])?,
            ingest_clients: env_rates("BENCH_INGEST_CLIENTS", &[1, 16, 64])?,
            bulk_streams: env_rates("BENCH_BULK_STREAMS", &[1, 4])?,
            e2e_seconds: env_number("BENCH_E2E_SECONDS", 5.0f64)?.max(0.1),
            fanout_subscribers: env_number("BENCH_FANOUT_SUBSCRIBERS", 1000usize)?.max(1),
            fanout_rates: env_rates("BENCH_FANOUT_RATES", &[100, 10])?,
            fanout_seconds: env_number("BENCH_FANOUT_SECONDS", 3.0f64)?.max(0.1),
            catchup_events: env_number("BENCH_CATCHUP_EVENTS", 100_000usize)?.max(1),
            catchup_article_bytes: env_number("BENCH_CATCHUP_ARTICLE_BYTES", 0usize)?,
            catchup_dir: std::env::var_os("BENCH_CATCHUP_DIR").map(PathBuf::from),
            extract_repeat: env_number("BENCH_EXTRACT_REPEAT", 20usize)?.max(1),
            temp_root: std::env::var_os("BENCH_TMPDIR")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir),
            peers,
            peers_source,
        })
    }

    fn wants(&self, section: &str) -> bool {
        self.sections.contains(section)
    }

    fn peer_number(&self, key: &str) -> Option<f64> {
        self.peers.get(key).and_then(|value| value.parse().ok())
    }
}

/// `key=value` lines; `#` starts a comment.
fn read_peers(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("peer results {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split('#').next())
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect())
}

/// One line of the result table.
struct Row {
    metric: String,
    value: String,
    reference: String,
    ratio: String,
    target: String,
    met: String,
}

impl Row {
    fn new(metric: impl Into<String>, value: impl Into<String>) -> Row {
        Row {
            metric: metric.into(),
            value: value.into(),
            reference: String::new(),
            ratio: String::new(),
            target: String::new(),
            met: String::new(),
        }
    }

    fn reference(mut self, reference: impl Into<String>) -> Row {
        self.reference = reference.into();
        self
    }

    fn ratio(mut self, ratio: Option<f64>) -> Row {
        self.ratio = ratio.map_or_else(String::new, |ratio| format!("{ratio:.2}×"));
        self
    }

    fn target(mut self, target: impl Into<String>, met: Option<bool>) -> Row {
        self.target = target.into();
        self.met = match met {
            Some(true) => "yes".to_string(),
            Some(false) => "**no**".to_string(),
            None => "n/a".to_string(),
        };
        self
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        length if length % 2 == 1 => sorted[length / 2],
        length => (sorted[length / 2 - 1] + sorted[length / 2]) / 2.0,
    }
}

/// The `fraction` quantile (nearest rank) of sorted durations.
fn quantile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn per_second(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{}/s", thousands(rate.round() as u64))
    } else {
        format!("{rate:.1}/s")
    }
}

fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn rounds_text(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|rate| format!("{rate:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn progress(message: impl AsRef<str>) {
    eprintln!("[bench] {}", message.as_ref());
}

/// `field` (`VmRSS`, `VmHWM`) of a `/proc/PID/status` text, in KiB.
fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

/// Bytes allocated on disk under `path` (like `du`).
fn disk_usage(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => disk_usage(&entry.path()),
            Ok(metadata) => metadata.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// The dev articles (`../shared/corpus/dev/*.txt`), sorted by name.
fn dev_corpus() -> anyhow::Result<Vec<(String, String)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dev");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("corpus {}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "txt"))
        .collect();
    paths.sort();
    let mut texts = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        texts.push((name, std::fs::read_to_string(&path)?));
    }
    if texts.is_empty() {
        bail!("no *.txt in {}", dir.display());
    }
    Ok(texts)
}

/// Distinct article bodies of real size: a dev article plus an archive line
/// unique to the bench run and the article, so a store kept from an earlier
/// run (`BENCH_CATCHUP_DIR`) takes this run's articles as new ones.
struct Articles {
    texts: Vec<String>,
    next: AtomicU64,
    run: u128,
}

impl Articles {
    fn new(texts: Vec<String>) -> Articles {
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        Articles {
            texts,
            next: AtomicU64::new(0),
            run,
        }
    }

    fn body(&self, number: u64) -> String {
        let index = usize::try_from(number).unwrap_or(0) % self.texts.len();
        format!(
            "{}\n\nMã lưu trữ: {:x}-{number}.",
            self.texts[index], self.run
        )
    }

    fn next_body(&self) -> String {
        self.body(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The same texts cut to at most `bytes` (at a character boundary).
    fn truncated(&self, bytes: usize) -> Articles {
        let cut = |text: &String| {
            let mut end = bytes.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text[..end].to_string()
        };
        Articles {
            run: self.run,
            ..Articles::new(self.texts.iter().map(cut).collect())
        }
    }

    fn average_bytes(&self) -> f64 {
        self.texts.iter().map(String::len).sum::<usize>() as f64 / self.texts.len() as f64
    }
}

fn text_request(text: String) -> proto::SubmitArticleRequest {
    proto::SubmitArticleRequest {
        request_id: String::new(),
        article: Some(proto::ArticleContent {
            body: Some(proto::article_content::Body::Text(text)),
            url: None,
            outlet: None,
            published_at: None,
            title: None,
        }),
    }
}

/// Real dialogue articles with a varying partner and edition: a dev article
/// reporting "Đối thoại Chính sách Quốc phòng Việt Nam - X lần thứ N" with
/// its partner and edition replaced.
struct DialogueTemplate {
    text: String,
    partner: String,
    edition: String,
}

impl DialogueTemplate {
    fn from_corpus(corpus: &[(String, String)]) -> anyhow::Result<DialogueTemplate> {
        let (_, text) = corpus
            .iter()
            .find(|(name, text)| {
                name == "seed-000.txt" && text.contains("Israel") && text.contains("lần thứ 2")
            })
            .ok_or_else(|| anyhow!("seed-000.txt (Việt Nam - Israel, lần thứ 2) not found"))?;
        Ok(DialogueTemplate {
            text: text.clone(),
            partner: "Israel".to_string(),
            edition: "lần thứ 2".to_string(),
        })
    }

    /// The `number`-th article: partner `number % 20`, edition `100 + number / 20`
    /// (every number gives a distinct dialogue record).
    fn article(&self, number: u64) -> (String, &'static str, u32) {
        let count = PARTNERS.len() as u64;
        let (partner_name, partner_code) = PARTNERS[usize::try_from(number % count).unwrap_or(0)];
        let edition = 100 + u32::try_from(number / count).unwrap_or(u32::MAX - 100);
        let text = self
            .text
            .replace(&self.partner, partner_name)
            .replace(&self.edition, &format!("lần thứ {edition}"));
        (text, partner_code, edition)
    }

    /// How many of the first `count` articles the extractor turns into the
    /// expected record; prints the first miss.
    fn check(&self, extractor: &Extractor, count: u64) -> u64 {
        let mut good = 0u64;
        for number in 0..count {
            let (text, partner, edition) = self.article(number);
            let extraction = extractor.extract(&ArticleInput {
                text: &text,
                ..ArticleInput::default()
            });
            let expected = extraction.is_dialogue
                && extraction
                    .events
                    .iter()
                    .any(|event| event.partner.code == partner && event.edition == Some(edition));
            if expected {
                good += 1;
            } else if good == number {
                let found: Vec<String> = extraction
                    .events
                    .iter()
                    .map(|event| format!("{} {:?}", event.partner.code, event.edition))
                    .collect();
                progress(format!(
                    "template article {number} (expected {partner} {edition}): is_dialogue {}, events {found:?}, reason {:?}",
                    extraction.is_dialogue, extraction.reason
                ));
            }
        }
        good
    }
}

/// A synthetic extraction: a policy dialogue with a distinct (partner, edition) per number.
fn synthetic_extraction(number: u64) -> Extraction {
    let count = PARTNERS.len() as u64;
    let (name, code) = PARTNERS[usize::try_from(number % count).unwrap_or(0)];
    Extraction {
        is_dialogue: true,
        source_url: None,
        reason: None,
        events: vec![DialogueEvent {
            primary: true,
            kind: DialogueKind::PolicyDialogue,
            partner: Partner {
                code: code.to_string(),
                name_vi: name.to_string(),
                name_en: name.to_string(),
            },
            edition: Some(1 + u32::try_from(number / count).unwrap_or(u32::MAX - 1)),
            date: None,
            location: Location::default(),
            relationship: None,
            participants: Vec::new(),
            documents: Vec::new(),
            areas: Vec::new(),
            topics: Vec::new(),
            previous: None,
            evidence: Vec::new(),
        }],
    }
}

fn store_config(path: &Path) -> StoreConfig {
    StoreConfig {
        path: path.to_path_buf(),
        lease_duration: Duration::from_secs(30),
        max_attempts: 5,
        retry_backoff: Duration::from_millis(100),
        max_retry_backoff: Duration::from_secs(10),
        cache_bytes: std::env::var("DIALOGWATCH_CACHE_MB")
            .ok()
            .and_then(|megabytes| megabytes.parse::<u64>().ok())
            .map_or(StoreConfig::DEFAULT_CACHE_BYTES, |megabytes| {
                megabytes.max(1).saturating_mul(1024 * 1024)
            }),
    }
}

/// A dialogwatch server in this process.
struct RunningServer {
    address: SocketAddr,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    async fn start(
        data_dir: &Path,
        workers: usize,
        max_subscribers: usize,
    ) -> anyhow::Result<RunningServer> {
        let store = Store::open(store_config(data_dir)).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let config = ServerConfig {
            workers,
            max_subscribers,
            ..ServerConfig::default()
        };
        let (shutdown, signal) = oneshot::channel::<()>();
        let handle = tokio::spawn(dialogwatch::run(listener, store, config, async move {
            let _ = signal.await;
        }));
        Ok(RunningServer {
            address,
            shutdown,
            handle,
        })
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.handle.await??;
        Ok(())
    }
}

/// The `dialogwatch serve` binary in a child process (logs at warn), so its
/// RSS is the server's alone.
struct ChildServer {
    child: std::process::Child,
    address: SocketAddr,
}

impl ChildServer {
    async fn start(
        data_dir: &Path,
        workers: usize,
        max_subscribers: usize,
    ) -> anyhow::Result<ChildServer> {
        let address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        // BENCH_SERVER_BINARY: another build of the server, to compare two builds
        // in alternating runs of one bench binary.
        let binary = std::env::var_os("BENCH_SERVER_BINARY")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_dialogwatch").into());
        let child = std::process::Command::new(binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", &address.to_string()])
            .args(["--metrics-listen", "off"])
            .args(["--workers", &workers.to_string()])
            .args(["--max-subscribers", &max_subscribers.to_string()])
            .env("DIALOGWATCH_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting dialogwatch serve")?;
        let mut server = ChildServer { child, address };
        let opening = Instant::now();
        let deadline = opening + OPEN_PATIENCE;
        while connect(&server.url()).await.is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("dialogwatch serve exited: {status}");
            }
            if Instant::now() > deadline {
                server.kill();
                bail!("dialogwatch serve did not listen on {address}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let opened_in = opening.elapsed();
        if opened_in > Duration::from_secs(1) {
            progress(format!(
                "dialogwatch serve listened after {:.1} s (store open)",
                opened_in.as_secs_f64()
            ));
        }
        Ok(server)
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A value of the child's `/proc/PID/status` in KiB.
    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        parse_status_kib(&status, field)
    }

    /// Resets the child's peak RSS (`VmHWM`) to its current RSS (Linux `clear_refs` 5).
    fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").is_ok()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (graceful shutdown), then waits; kills it if it lingers.
    async fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let deadline = Instant::now() + DRAIN_PATIENCE;
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.kill();
                bail!("dialogwatch serve did not stop on SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

async fn connect(url: &str) -> anyhow::Result<Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.to_string())?
        .connect()
        .await?)
}

/// The ceiling of the gRPC overhead comparison: `ArticleService` answering
/// every SubmitArticle at once, storing nothing (same messages, same tonic stack).
struct EchoArticles {
    next: AtomicU64,
}

impl EchoArticles {
    /// The echo's answer: the next id, created.
    fn answer(&self) -> Response<proto::SubmitArticleResponse> {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        Response::new(proto::SubmitArticleResponse {
            article_id: format!("art-{number}"),
            created: true,
        })
    }
}

#[tonic::async_trait]
impl ArticleService for EchoArticles {
    async fn submit_article(
        &self,
        request: Request<proto::SubmitArticleRequest>,
    ) -> Result<Response<proto::SubmitArticleResponse>, Status> {
        let request = request.into_inner();
        if request.article.is_none() {
            return Err(Status::invalid_argument("article is required"));
        }
        Ok(self.answer())
    }

    async fn submit_articles(
        &self,
        _request: Request<Streaming<proto::SubmitArticleRequest>>,
    ) -> Result<Response<proto::SubmitArticlesResponse>, Status> {
        Err(Status::unimplemented("echo only answers SubmitArticle"))
    }

    async fn get_article(
        &self,
        _request: Request<proto::GetArticleRequest>,
    ) -> Result<Response<proto::Article>, Status> {
        Err(Status::unimplemented("echo only answers SubmitArticle"))
    }
}

/// The same echo over the server side that dialogwatch serves
/// (`proto::unvalidated`: article bodies decoded as bytes, their UTF-8
/// checked as dialogwatch checks it): a diagnostic beside the ceiling, the
/// stock tonic service, whose prost decoding checks UTF-8 itself.
#[tonic::async_trait]
impl UnvalidatedArticleService for EchoArticles {
    async fn submit_article(
        &self,
        request: Request<proto::unvalidated::SubmitArticleRequest>,
    ) -> Result<Response<proto::SubmitArticleResponse>, Status> {
        use proto::unvalidated::article_content::Body;
        let request = request.into_inner();
        let body = match request.article.and_then(|article| article.body) {
            Some(
                Body::Text(bytes)
                | Body::Html(bytes)
                | Body::TextBytes(bytes)
                | Body::HtmlBytes(bytes),
            ) => bytes,
            None => return Err(Status::invalid_argument("article body is required")),
        };
        if simdutf8::basic::from_utf8(&body).is_err() {
            return Err(Status::invalid_argument("article body is not UTF-8"));
        }
        Ok(self.answer())
    }

    async fn submit_articles(
        &self,
        _request: Request<Streaming<proto::unvalidated::SubmitArticleRequest>>,
    ) -> Result<Response<proto::SubmitArticlesResponse>, Status> {
        Err(Status::unimplemented("echo only answers SubmitArticle"))
    }

    async fn get_article(
        &self,
        _request: Request<proto::GetArticleRequest>,
    ) -> Result<Response<proto::Article>, Status> {
        Err(Status::unimplemented("echo only answers SubmitArticle"))
    }
}

/// Which echo [`start_echo`] serves.
#[derive(Clone, Copy)]
enum Echo {
    /// The stock generated tonic service: the ceiling.
    Stock,
    /// The server side dialogwatch serves (bodies as bytes, SIMD UTF-8 check).
    BodiesAsBytes,
}

/// Starts an echo service on 127.0.0.1:0.
async fn start_echo(echo: Echo) -> anyhow::Result<(String, oneshot::Sender<()>, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (shutdown, signal) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        let articles = EchoArticles {
            next: AtomicU64::new(1),
        };
        let router = match echo {
            Echo::Stock => {
                tonic::transport::Server::builder().add_service(ArticleServiceServer::new(articles))
            }
            Echo::BodiesAsBytes => tonic::transport::Server::builder()
                .add_service(UnvalidatedArticleServiceServer::new(articles)),
        };
        let served = router
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async move {
                    let _ = signal.await;
                },
            )
            .await;
        if let Err(error) = served {
            progress(format!("echo server: {error}"));
        }
    });
    Ok((format!("http://{address}"), shutdown, handle))
}

/// Articles/s acknowledged (created) by `clients` concurrent unary submitters,
/// each on its own connection, for `seconds`.
async fn unary_rate(
    url: &str,
    clients: usize,
    seconds: f64,
    articles: &Arc<Articles>,
) -> anyhow::Result<f64> {
    let mut channels = Vec::with_capacity(clients);
    for _ in 0..clients {
        channels.push(connect(url).await?);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = JoinSet::new();
    for channel in channels {
        let articles = Arc::clone(articles);
        tasks.spawn(async move {
            let mut client = ArticleServiceClient::new(channel);
            let mut acknowledged = 0u64;
            while Instant::now() < deadline {
                let response = client
                    .submit_article(text_request(articles.next_body()))
                    .await?
                    .into_inner();
                if response.created {
                    acknowledged += 1;
                }
            }
            Ok::<u64, anyhow::Error>(acknowledged)
        });
    }
    let mut total = 0u64;
    while let Some(joined) = tasks.join_next().await {
        total += joined??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Articles/s acknowledged through SubmitArticles streams of `batch` articles,
/// for `seconds`, from `streams` clients (each its own connection, one
/// stream after another), and how many articles that was.
async fn bulk_rate(
    url: &str,
    batch: usize,
    seconds: f64,
    streams: usize,
    articles: &Arc<Articles>,
) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut clients = Vec::with_capacity(streams);
    for _ in 0..streams {
        let url = url.to_string();
        let articles = Arc::clone(articles);
        clients.push(tokio::spawn(async move {
            bulk_client(&url, batch, deadline, &articles).await
        }));
    }
    let mut acknowledged = 0u64;
    for client in clients {
        acknowledged += client.await??;
    }
    Ok((
        acknowledged as f64 / started.elapsed().as_secs_f64(),
        acknowledged,
    ))
}

/// One bulk client: streams of `batch` articles until `deadline`; returns the
/// articles acknowledged as created.
async fn bulk_client(
    url: &str,
    batch: usize,
    deadline: Instant,
    articles: &Arc<Articles>,
) -> anyhow::Result<u64> {
    let mut client =
        ArticleServiceClient::new(connect(url).await?).max_decoding_message_size(64 * 1024 * 1024);
    let mut acknowledged = 0u64;
    while Instant::now() < deadline {
        let requests: Vec<proto::SubmitArticleRequest> = (0..batch)
            .map(|_| text_request(articles.next_body()))
            .collect();
        let response = client
            .submit_articles(tokio_stream::iter(requests))
            .await?
            .into_inner();
        acknowledged += response
            .results
            .iter()
            .filter(|result| {
                matches!(
                    &result.outcome,
                    Some(proto::submit_article_result::Outcome::Accepted(accepted)) if accepted.created
                )
            })
            .count() as u64;
    }
    Ok(acknowledged)
}

/// A fresh temporary data directory under the bench's temp root.
fn temp_dir(settings: &Settings, label: &str) -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix(&format!("dialogwatch-bench-{label}-"))
        .tempdir_in(&settings.temp_root)?)
}

fn section_extract(settings: &Settings, corpus: &[(String, String)], rows: &mut Vec<Row>) {
    let extractor = Extractor::new();
    let texts: Vec<&str> = corpus.iter().map(|(_, text)| text.as_str()).collect();
    let round_bytes = texts.iter().map(|text| text.len()).sum::<usize>() * settings.extract_repeat;
    // Warm up (lazy tables, caches).
    for text in &texts {
        std::hint::black_box(extractor.extract(&ArticleInput {
            text,
            ..ArticleInput::default()
        }));
    }
    let rates: Vec<f64> = (0..settings.rounds)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..settings.extract_repeat {
                for text in &texts {
                    std::hint::black_box(extractor.extract(&ArticleInput {
                        text,
                        ..ArticleInput::default()
                    }));
                }
            }
            round_bytes as f64 / started.elapsed().as_secs_f64() / 1e6
        })
        .collect();
    let rate = median(&rates);
    progress(format!(
        "extract: {rate:.2} MB/s (rounds {})",
        rates
            .iter()
            .map(|rate| format!("{rate:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // The full normaliser, as extraction runs it; and the store's duplicate
    // fingerprint of every submitted article (the same normal form, hashed
    // in one pass without building it).
    let text_rate = |work: &dyn Fn(&str)| -> f64 {
        let rates: Vec<f64> = (0..settings.rounds)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..settings.extract_repeat {
                    for text in &texts {
                        work(std::hint::black_box(text));
                    }
                }
                round_bytes as f64 / started.elapsed().as_secs_f64() / 1e6
            })
            .collect();
        median(&rates)
    };
    let normalize_rate = text_rate(&|text| {
        std::hint::black_box(dialogwatch_worker::normalize::normalize(text));
    });
    let fingerprint_rate = text_rate(&|text| {
        std::hint::black_box(dialogwatch::store::text_fingerprint(text));
    });
    progress(format!(
        "normalize: {normalize_rate:.2} MB/s, fingerprint: {fingerprint_rate:.2} MB/s"
    ));
    let peer = settings.peer_number("underthesea_mb_per_s");
    let mode = settings
        .peers
        .get("underthesea_mode")
        .cloned()
        .unwrap_or_else(|| "not run".to_string());
    let ratio = peer.filter(|peer| *peer > 0.0).map(|peer| rate / peer);
    rows.push(
        Row::new(
            format!(
                "Extraction, 1 core ({} dev articles × {})",
                texts.len(),
                settings.extract_repeat
            ),
            format!("{rate:.2} MB/s"),
        )
        .reference(match peer {
            Some(peer) => format!("underthesea {mode}: {peer:.4} MB/s"),
            None => "underthesea: not run (bench/run.sh)".to_string(),
        })
        .ratio(ratio)
        .target("≥ 100× peer", ratio.map(|ratio| ratio >= 100.0)),
    );
    let average_bytes = round_bytes as f64 / (texts.len() * settings.extract_repeat) as f64;
    for (name, rate) in [
        (
            "Normaliser (the full normal form, as extraction runs it), 1 core",
            normalize_rate,
        ),
        (
            "Duplicate fingerprint (what the store computes for every submitted article), 1 core",
            fingerprint_rate,
        ),
    ] {
        rows.push(
            Row::new(name, format!("{rate:.2} MB/s"))
                .reference(format!(
                    "≈ {} articles/s of {:.0} bytes",
                    thousands((rate * 1e6 / average_bytes).round() as u64),
                    average_bytes
                ))
                .target("(diagnostic)", None),
        );
    }
}

/// What the disk allows, measured by the `fsync` section.
#[derive(Clone, Copy, Debug)]
struct DiskCeilings {
    /// Files created, written (4 KiB) and fsynced per second, one at a time.
    fsyncs_per_second: f64,
    /// Bytes per second written sequentially to one file and synced.
    write_bytes_per_second: f64,
}

fn section_fsync(settings: &Settings, rows: &mut Vec<Row>) -> anyhow::Result<DiskCeilings> {
    let dir = temp_dir(settings, "fsync")?;
    let body = [b'x'; 4096];
    let mut rates = Vec::new();
    for round in 0..settings.rounds {
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(settings.seconds.min(2.0));
        let mut written = 0u64;
        while Instant::now() < deadline {
            let path = dir.path().join(format!("{round}-{written}"));
            let mut file = std::fs::File::create(&path)?;
            file.write_all(&body)?;
            file.sync_all()?;
            written += 1;
        }
        rates.push(written as f64 / started.elapsed().as_secs_f64());
    }
    let rate = median(&rates);
    progress(format!(
        "fsync: {rate:.0}/s (rounds {})",
        rounds_text(&rates)
    ));
    rows.push(
        Row::new(
            "fsync ceiling: create + write 4 KiB + fsync, one at a time",
            per_second(rate),
        )
        .target("(reference)", None),
    );
    // The two ways a log file is synced: grown by each write, or written
    // over zeros preallocated (and synced) beforehand, as the write-ahead log is.
    let appending = log_sync_rates(settings, &dir, false)?;
    let overwriting = log_sync_rates(settings, &dir, true)?;
    progress(format!(
        "fsync: one log file, appending {:.0}/s (rounds {}), over preallocated zeros {:.0}/s (rounds {})",
        median(&appending),
        rounds_text(&appending),
        median(&overwriting),
        rounds_text(&overwriting)
    ));
    rows.push(
        Row::new(
            "Log sync: append 4 KiB to one file + fdatasync, one at a time",
            per_second(median(&appending)),
        )
        .target("(diagnostic)", None),
    );
    rows.push(
        Row::new(
            "Log sync: write 4 KiB over preallocated zeros + fdatasync (the write-ahead log's way)",
            per_second(median(&overwriting)),
        )
        .reference(format!("appending {}", per_second(median(&appending))))
        .ratio(Some(median(&overwriting) / median(&appending)))
        .target("(diagnostic)", None),
    );
    let bandwidths = write_bandwidths(settings, &dir)?;
    let bandwidth = median(&bandwidths);
    progress(format!(
        "disk: sequential writes {:.0} MB/s (rounds {})",
        bandwidth / 1e6,
        bandwidths
            .iter()
            .map(|rate| format!("{:.0}", rate / 1e6))
            .collect::<Vec<_>>()
            .join(" / ")
    ));
    rows.push(
        Row::new(
            format!(
                "Disk bandwidth: 1 MiB writes to one file, fdatasync every {} MiB",
                BANDWIDTH_SYNC_EVERY >> 20
            ),
            format!("{:.0} MB/s", bandwidth / 1e6),
        )
        .target("(reference)", None),
    );
    Ok(DiskCeilings {
        fsyncs_per_second: rate,
        write_bytes_per_second: bandwidth,
    })
}

/// Bytes written between the syncs of the bandwidth measure.
const BANDWIDTH_SYNC_EVERY: u64 = 8 << 20;

/// Bytes per second written to one new file in 1 MiB writes, synced every
/// [`BANDWIDTH_SYNC_EVERY`] and at the end (at most 1 GiB or the section's
/// seconds, capped at 2, per round): what the disk takes when nothing but
/// writing waits on it.
fn write_bandwidths(settings: &Settings, dir: &tempfile::TempDir) -> anyhow::Result<Vec<f64>> {
    const MOST_BYTES: u64 = 1 << 30;
    let chunk = vec![b'x'; 1 << 20];
    let mut rates = Vec::new();
    for round in 0..settings.rounds {
        let path = dir.path().join(format!("bandwidth-{round}"));
        let mut file = std::fs::File::create(&path)?;
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(settings.seconds.min(2.0));
        let mut written = 0u64;
        while Instant::now() < deadline && written < MOST_BYTES {
            file.write_all(&chunk)?;
            written += chunk.len() as u64;
            if written % BANDWIDTH_SYNC_EVERY == 0 {
                file.sync_data()?;
            }
        }
        file.sync_data()?;
        rates.push(written as f64 / started.elapsed().as_secs_f64());
        drop(file);
        std::fs::remove_file(&path)?;
    }
    Ok(rates)
}

/// Bytes this process has caused to be written to storage so far
/// (`write_bytes` of `/proc/self/io`), if the kernel says.
fn process_write_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("write_bytes:"))
        .and_then(|rest| rest.trim().parse().ok())
}

/// Writes-and-syncs per second of 4 KiB records to one file, one at a time,
/// appended or (`preallocated`) written over zeros synced beforehand.
fn log_sync_rates(
    settings: &Settings,
    dir: &tempfile::TempDir,
    preallocated: bool,
) -> anyhow::Result<Vec<f64>> {
    use std::os::unix::fs::FileExt;
    const LOG_BYTES: u64 = 64 << 20;
    let body = [b'x'; 4096];
    let mut rates = Vec::new();
    for round in 0..settings.rounds {
        let path = dir.path().join(format!("log-{preallocated}-{round}"));
        let file = std::fs::File::create(&path)?;
        if preallocated {
            let zeros = vec![0u8; 1 << 20];
            for step in 0..LOG_BYTES >> 20 {
                file.write_all_at(&zeros, step << 20)?;
            }
            file.sync_all()?;
        }
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(settings.seconds.min(2.0));
        let mut offset = 0u64;
        let mut written = 0u64;
        while Instant::now() < deadline && offset + body.len() as u64 <= LOG_BYTES {
            file.write_all_at(&body, offset)?;
            file.sync_data()?;
            offset += body.len() as u64;
            written += 1;
        }
        rates.push(written as f64 / started.elapsed().as_secs_f64());
        drop(file);
        std::fs::remove_file(&path)?;
    }
    Ok(rates)
}

/// Records whose index keys the `sled` section inserts.
const SLED_RECORDS: u64 = 2000;

/// sled's insert rate on the keys a completion adds to the `dialogue_index`
/// tree (those of the e2e articles' records, in the order their records
/// arrive), into one fresh tree of a database configured as the store's
/// (`store::sled_config`), from one thread, with empty values as the store
/// writes them; and the entries per record, so the records per second
/// this upkeep alone allows one writer.
fn section_sled(
    settings: &Settings,
    template: &DialogueTemplate,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let extractor = Extractor::new();
    let mut records = Vec::new();
    for number in 0..SLED_RECORDS {
        let (text, _, _) = template.article(number);
        let extraction = extractor.extract(&ArticleInput {
            text: &text,
            ..ArticleInput::default()
        });
        for (position, event) in extraction.events.into_iter().enumerate() {
            let sequence = records.len() as u64 + 1;
            records.push(dialogwatch::domain::DialogueRecord {
                id: dialogwatch::store::merge::record_id(&format!("bench {number} {position}")),
                revision: 1,
                sequence,
                event,
                sources: Vec::new(),
                created_at_ms: 0,
                updated_at_ms: 0,
            });
        }
    }
    if records.is_empty() {
        bail!("sled: the template articles gave no record");
    }
    let keys: Vec<Vec<u8>> = records
        .iter()
        .flat_map(dialogwatch::store::index::index_keys)
        .collect();
    let entries_per_record = keys.len() as f64 / records.len() as f64;
    let mut rates = Vec::new();
    for round in 0..settings.rounds {
        let dir = temp_dir(settings, &format!("sled-{round}"))?;
        let db = dialogwatch::store::sled_config(dir.path(), store_config(dir.path()).cache_bytes)
            .open()?;
        let tree = db.open_tree("dialogue_index")?;
        let started = Instant::now();
        for key in &keys {
            tree.insert(key.as_slice(), &[][..])?;
        }
        rates.push(keys.len() as f64 / started.elapsed().as_secs_f64());
    }
    let rate = median(&rates);
    progress(format!(
        "sled: {rate:.0} inserts/s (rounds {}), {entries_per_record:.1} index entries per record",
        rounds_text(&rates)
    ));
    rows.push(
        Row::new(
            "sled ceiling: inserts of the dialogue index's keys (the e2e records'), one tree, one thread",
            format!("{} inserts", per_second(rate)),
        )
        .reference(format!(
            "{entries_per_record:.1} entries per record: {} records",
            per_second(rate / entries_per_record)
        ))
        .target("(reference)", None),
    );
    Ok(())
}

async fn section_ingest(
    settings: &Settings,
    articles: &Arc<Articles>,
    disk: Option<DiskCeilings>,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let fsync_rate = disk.map(|disk| disk.fsyncs_per_second);
    let dir = temp_dir(settings, "ingest")?;
    let server = RunningServer::start(dir.path(), 0, 16).await?;
    let url = server.url();
    let jetstream = settings.peer_number("jetstream_acked_per_s");
    for &clients in &settings.ingest_clients {
        let clients = usize::try_from(clients).unwrap_or(usize::MAX);
        let mut rates = Vec::new();
        for _ in 0..settings.rounds {
            rates.push(unary_rate(&url, clients, settings.seconds, articles).await?);
        }
        let rate = median(&rates);
        progress(format!(
            "ingest unary {clients} clients: {rate:.0}/s (rounds {})",
            rounds_text(&rates)
        ));
        let metric = format!("Durable ingest, SubmitArticle, {clients} concurrent client(s)");
        let row = match clients {
            1 => Row::new(metric, per_second(rate))
                .reference(fsync_rate.map_or_else(String::new, |fsync| {
                    format!("fsync ceiling {}", per_second(fsync))
                }))
                .ratio(fsync_rate.map(|fsync| rate / fsync))
                .target("—", None),
            64 => Row::new(metric, per_second(rate))
                .reference(match jetstream {
                    Some(peer) => format!(
                        "JetStream, {} publishers: {}",
                        settings
                            .peers
                            .get("jetstream_publishers")
                            .map_or("?", String::as_str),
                        per_second(peer)
                    ),
                    None => "JetStream: not run (bench/run.sh)".to_string(),
                })
                .ratio(jetstream.map(|peer| rate / peer))
                .target(
                    "≥ 10,000/s and ≥ JetStream",
                    Some(rate >= 10_000.0 && jetstream.is_none_or(|peer| rate >= peer)),
                ),
            _ => Row::new(metric, per_second(rate)).target("—", None),
        };
        rows.push(row);
    }
    // One stream (its own latency bounds it: it is received, prepared,
    // written and flushed before the next starts) and four (what the server
    // sustains when streams overlap), unless `BENCH_BULK_STREAMS` says.
    for &streams in &settings.bulk_streams {
        let streams = usize::try_from(streams).unwrap_or(usize::MAX);
        let mut rates = Vec::new();
        let mut acknowledged = 0u64;
        // What the disk took per article: the server is in this process, and
        // the clients write nothing. What the unary phases left dirty is
        // written out first.
        quiet_disk().await;
        let written_before = process_write_bytes();
        for _ in 0..settings.rounds {
            let (rate, created) = bulk_rate(
                &url,
                settings.bulk_batch,
                settings.seconds,
                streams,
                articles,
            )
            .await?;
            rates.push(rate);
            acknowledged += created;
        }
        let rate = median(&rates);
        let written_per_article = match (written_before, process_write_bytes()) {
            (Some(before), Some(after)) if acknowledged > 0 => {
                Some(after.saturating_sub(before) as f64 / acknowledged as f64)
            }
            _ => None,
        };
        progress(format!(
            "ingest bulk, {streams} stream(s) at a time: {rate:.0}/s (rounds {}), {} bytes written to disk per article",
            rounds_text(&rates),
            written_per_article.map_or_else(|| "?".to_string(), |bytes| format!("{bytes:.0}"))
        ));
        let disk_reference = match (written_per_article, disk) {
            (Some(bytes), Some(disk)) if bytes > 0.0 => format!(
                "disk written {} bytes/article; {:.0} MB/s sequential allows {}",
                thousands(bytes as u64),
                disk.write_bytes_per_second / 1e6,
                per_second(disk.write_bytes_per_second / bytes)
            ),
            (Some(bytes), _) => format!("disk written {} bytes/article", thousands(bytes as u64)),
            (None, _) => String::new(),
        };
        let metric = if streams == 1 {
            format!(
                "Durable ingest, SubmitArticles stream of {} articles",
                settings.bulk_batch
            )
        } else {
            format!(
                "Durable ingest, SubmitArticles streams of {} articles, {streams} clients at a time",
                settings.bulk_batch
            )
        };
        rows.push(
            Row::new(metric, per_second(rate))
                .reference(disk_reference)
                .target("≥ 50,000/s", Some(rate >= 50_000.0)),
        );
    }
    server.stop().await?;
    let used = disk_usage(dir.path());
    let stored = articles.next.load(Ordering::Relaxed);
    progress(format!(
        "ingest: {stored} articles submitted so far, {used} bytes on disk in the ingest store"
    ));
    Ok(())
}

async fn section_grpc(
    settings: &Settings,
    articles: &Arc<Articles>,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    const CLIENTS: usize = 64;
    let dir = temp_dir(settings, "grpc")?;
    let server = RunningServer::start(dir.path(), 0, 16).await?;
    let (echo_url, echo_shutdown, echo_handle) = start_echo(Echo::Stock).await?;
    let (bytes_echo_url, bytes_echo_shutdown, bytes_echo_handle) =
        start_echo(Echo::BodiesAsBytes).await?;
    let mut echo_rates = Vec::new();
    let mut bytes_echo_rates = Vec::new();
    let mut submit_rates = Vec::new();
    // Interleaved rounds, so load changes on the machine hit all alike.
    for _ in 0..settings.rounds {
        echo_rates.push(unary_rate(&echo_url, CLIENTS, settings.seconds, articles).await?);
        bytes_echo_rates
            .push(unary_rate(&bytes_echo_url, CLIENTS, settings.seconds, articles).await?);
        submit_rates.push(unary_rate(&server.url(), CLIENTS, settings.seconds, articles).await?);
    }
    for (shutdown, handle) in [
        (echo_shutdown, echo_handle),
        (bytes_echo_shutdown, bytes_echo_handle),
    ] {
        let _ = shutdown.send(());
        let _ = handle.await;
    }
    server.stop().await?;
    let echo = median(&echo_rates);
    let bytes_echo = median(&bytes_echo_rates);
    let submit = median(&submit_rates);
    progress(format!(
        "grpc: echo {echo:.0}/s (rounds {}), echo with bodies as bytes {bytes_echo:.0}/s (rounds {}), SubmitArticle {submit:.0}/s (rounds {})",
        rounds_text(&echo_rates),
        rounds_text(&bytes_echo_rates),
        rounds_text(&submit_rates)
    ));
    let ratio = (echo > 0.0).then(|| submit / echo);
    rows.push(
        Row::new(
            format!("gRPC overhead: durable SubmitArticle vs bare tonic echo, {CLIENTS} clients"),
            per_second(submit),
        )
        .reference(format!("echo ArticleService: {}", per_second(echo)))
        .ratio(ratio)
        .target("≥ 0.7 of echo", ratio.map(|ratio| ratio >= 0.7)),
    );
    rows.push(
        Row::new(
            format!("gRPC overhead, diagnostic: the same against an echo of the server side dialogwatch serves (bodies as bytes, SIMD UTF-8 check), {CLIENTS} clients"),
            per_second(submit),
        )
        .reference(format!("echo, bodies as bytes: {}", per_second(bytes_echo)))
        .ratio((bytes_echo > 0.0).then(|| submit / bytes_echo))
        .target("(diagnostic)", None),
    );
    Ok(())
}

/// Collects, per article id, when a subscriber first saw a record sourced from it.
/// What the e2e and fan-out subscribers read of a `FeedEvent`: the record's
/// source article ids, which they time. prost skips every other field
/// without building it; the server still sends whole messages. (A full
/// decode of 100,000 messages/s by the bench's own subscribers, on the same
/// two cores as the server, measured the bench more than the server.)
#[derive(Clone, PartialEq, prost::Message)]
struct LeanFeedEvent {
    #[prost(uint64, tag = "1")]
    sequence: u64,
    #[prost(message, optional, tag = "3")]
    dialogue: Option<LeanRecord>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LeanRecord {
    #[prost(message, repeated, tag = "5")]
    sources: Vec<LeanSource>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LeanSource {
    #[prost(string, tag = "1")]
    article_id: String,
}

/// `WatchDialogues` from the head, read as [`LeanFeedEvent`]s.
async fn watch_lean(channel: Channel) -> anyhow::Result<Streaming<LeanFeedEvent>> {
    watch_lean_from(
        channel,
        proto::WatchDialoguesRequest {
            from_sequence: 0,
            start_at_head: true,
            filter: None,
        },
    )
    .await
}

/// `WatchDialogues` as asked by `request`, read as [`LeanFeedEvent`]s.
async fn watch_lean_from(
    channel: Channel,
    request: proto::WatchDialoguesRequest,
) -> anyhow::Result<Streaming<LeanFeedEvent>> {
    let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    grpc.ready().await?;
    let codec = tonic_prost::ProstCodec::<proto::WatchDialoguesRequest, LeanFeedEvent>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/dialogwatch.v1.DialogueService/WatchDialogues",
    );
    Ok(grpc
        .server_streaming(Request::new(request), path, codec)
        .await?
        .into_inner())
}

async fn collect_arrivals(
    mut stream: Streaming<LeanFeedEvent>,
    expected: usize,
    stop: CancellationToken,
) -> Vec<(String, Instant)> {
    let mut seen = HashSet::new();
    let mut arrivals = Vec::with_capacity(expected);
    while seen.len() < expected {
        let next = tokio::select! {
            next = stream.message() => next,
            () = stop.cancelled() => break,
        };
        let Ok(Some(event)) = next else {
            break;
        };
        let now = Instant::now();
        let sources = event
            .dialogue
            .map(|record| record.sources)
            .unwrap_or_default();
        for source in sources {
            if seen.insert(source.article_id.clone()) {
                arrivals.push((source.article_id, now));
            }
        }
    }
    arrivals
}

/// Submits `total` template articles at `rate`/s on `channels`; returns (article id, send time).
async fn submit_steadily(
    channels: &[Channel],
    template: &Arc<DialogueTemplate>,
    first_number: u64,
    total: u64,
    rate: u64,
) -> anyhow::Result<Vec<(String, Instant)>> {
    let sent = Arc::new(Mutex::new(Vec::with_capacity(
        usize::try_from(total).unwrap_or(0),
    )));
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let started = tokio::time::Instant::now();
    let mut tasks = JoinSet::new();
    for index in 0..total {
        tokio::time::sleep_until(started + period.mul_f64(index as f64)).await;
        let channel = channels[usize::try_from(index).unwrap_or(0) % channels.len()].clone();
        let template = Arc::clone(template);
        let sent = Arc::clone(&sent);
        tasks.spawn(async move {
            let (text, _, _) = template.article(first_number + index);
            let mut client = ArticleServiceClient::new(channel);
            let send_time = Instant::now();
            let response = client
                .submit_article(text_request(text))
                .await?
                .into_inner();
            if let Ok(mut sent) = sent.lock() {
                sent.push((response.article_id, send_time));
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    let offered = started.elapsed().as_secs_f64();
    progress(format!(
        "submitted {total} articles in {offered:.2} s ({:.0}/s offered)",
        total as f64 / offered
    ));
    let sent = std::mem::take(&mut *sent.lock().map_err(|_| anyhow!("poisoned"))?);
    Ok(sent)
}

/// Latencies from each send to each arrival of the same article id, sorted.
fn latencies(sent: &[(String, Instant)], arrivals: &[(String, Instant)]) -> Vec<Duration> {
    let mut latencies: Vec<Duration> = deliveries(sent, arrivals)
        .into_iter()
        .map(|(latency, _)| latency)
        .collect();
    latencies.sort();
    latencies
}

/// (latency, send time) of each arrival of a sent article id.
fn deliveries(
    sent: &[(String, Instant)],
    arrivals: &[(String, Instant)],
) -> Vec<(Duration, Instant)> {
    let sent_at: HashMap<&str, Instant> = sent
        .iter()
        .map(|(article_id, at)| (article_id.as_str(), *at))
        .collect();
    arrivals
        .iter()
        .filter_map(|(article_id, arrived)| {
            sent_at
                .get(article_id.as_str())
                .map(|sent| (arrived.saturating_duration_since(*sent), *sent))
        })
        .collect()
}

/// The `count` slowest deliveries as "latency at send offset" (the offset
/// from the first send), slowest first: whether the tail is spread over the
/// run or clustered in a few stalls.
fn slowest_deliveries(
    sent: &[(String, Instant)],
    arrivals: &[(String, Instant)],
    count: usize,
) -> String {
    let Some(first_send) = sent.iter().map(|(_, at)| *at).min() else {
        return String::new();
    };
    let mut timed = deliveries(sent, arrivals);
    timed.sort_by_key(|(latency, _)| std::cmp::Reverse(*latency));
    timed
        .iter()
        .take(count)
        .map(|(latency, sent)| {
            format!(
                "{} at {:.2} s",
                milliseconds(*latency),
                sent.saturating_duration_since(first_send).as_secs_f64()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn section_end_to_end(
    settings: &Settings,
    template: &Arc<DialogueTemplate>,
    rate: u64,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let extractor = Extractor::new();
    let checked = 40u64;
    let good = template.check(&extractor, checked);
    progress(format!(
        "e2e: template check: {good}/{checked} generated articles extract to the expected partner and edition"
    ));
    let dir = temp_dir(settings, "e2e")?;
    let workers = env_number(
        "BENCH_WORKERS",
        std::thread::available_parallelism().map_or(2, usize::from),
    )?;
    let server = RunningServer::start(dir.path(), workers, 16).await?;
    let url = server.url();
    let total = (rate as f64 * settings.e2e_seconds).round() as u64;
    let stream = watch_lean(connect(&url).await?).await?;
    let stop = CancellationToken::new();
    let collector = tokio::spawn(collect_arrivals(
        stream,
        usize::try_from(total).unwrap_or(usize::MAX),
        stop.clone(),
    ));
    let mut channels = Vec::new();
    for _ in 0..4 {
        channels.push(connect(&url).await?);
    }
    let sent = submit_steadily(&channels, template, 0, total, rate).await?;
    let drain = tokio::spawn({
        let stop = stop.clone();
        async move {
            tokio::time::sleep(DRAIN_PATIENCE).await;
            stop.cancel();
        }
    });
    let arrivals = collector.await?;
    drain.abort();
    server.stop().await?;
    let latencies = latencies(&sent, &arrivals);
    let p50 = quantile(&latencies, 0.50);
    let p99 = quantile(&latencies, 0.99);
    progress(format!(
        "e2e: {} of {total} records arrived; p50 {p50:?}, p99 {p99:?}, max {:?}",
        latencies.len(),
        latencies.last().copied().unwrap_or_default()
    ));
    progress(format!(
        "e2e: slowest deliveries (latency at send offset): {}",
        slowest_deliveries(&sent, &arrivals, 8)
    ));
    let complete = latencies.len() as u64 == total;
    // What the whole pipeline (submit, lease, extract, complete, publish)
    // delivered: below the offered rate, a backlog grew.
    let first_sent = sent.iter().map(|(_, at)| *at).min();
    let last_arrival = arrivals.iter().map(|(_, at)| *at).max();
    let delivered_per_second = match (first_sent, last_arrival) {
        (Some(first), Some(last)) if last > first => {
            arrivals.len() as f64 / last.duration_since(first).as_secs_f64()
        }
        _ => 0.0,
    };
    progress(format!(
        "e2e: delivered {delivered_per_second:.0}/s from the first submit to the last arrival"
    ));
    rows.push(
        Row::new(
            format!(
                "End to end submit → subscriber, {}/s for {} s, {workers} in-process workers: p50 / p99",
                rate, settings.e2e_seconds
            ),
            format!("{} / {}", milliseconds(p50), milliseconds(p99)),
        )
        .reference(format!(
            "{} of {total} records arrived; delivered {} (first submit to last arrival)",
            latencies.len(),
            per_second(delivered_per_second)
        ))
        .target("p99 < 50 ms", Some(complete && p99 < Duration::from_millis(50))),
    );
    Ok(())
}

async fn section_fanout(
    settings: &Settings,
    template: &Arc<DialogueTemplate>,
    rate: u64,
    report_memory: bool,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    const STREAMS_PER_CONNECTION: usize = 100;
    let subscribers = settings.fanout_subscribers;
    let dir = temp_dir(settings, "fanout")?;
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let server = ChildServer::start(dir.path(), workers, subscribers + 16).await?;
    let url = server.url();
    let connections = subscribers.div_ceil(STREAMS_PER_CONNECTION);
    let mut channels = Vec::new();
    for _ in 0..connections {
        channels.push(connect(&url).await?);
    }
    // Let the server settle before the baseline.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before = server.status_kib("VmRSS");
    let mut streams = Vec::with_capacity(subscribers);
    for index in 0..subscribers {
        streams.push(watch_lean(channels[index % connections].clone()).await?);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_after = server.status_kib("VmRSS");
    let per_subscriber_kib = match (rss_before, rss_after) {
        (Some(before), Some(after)) => {
            Some(after.saturating_sub(before) as f64 / subscribers as f64)
        }
        _ => None,
    };
    let total = (rate as f64 * settings.fanout_seconds).round() as u64;
    let stop = CancellationToken::new();
    let collectors: Vec<JoinHandle<Vec<(String, Instant)>>> = streams
        .into_iter()
        .map(|stream| {
            tokio::spawn(collect_arrivals(
                stream,
                usize::try_from(total).unwrap_or(usize::MAX),
                stop.clone(),
            ))
        })
        .collect();
    // Numbers far from the e2e section's, so the records are new here too (fresh store anyway).
    let sent = submit_steadily(
        &channels[..connections.min(4)],
        template,
        1_000_000,
        total,
        rate,
    )
    .await?;
    let drain = tokio::spawn({
        let stop = stop.clone();
        async move {
            tokio::time::sleep(DRAIN_PATIENCE).await;
            stop.cancel();
        }
    });
    let mut arrivals = Vec::new();
    for collector in collectors {
        arrivals.extend(collector.await?);
    }
    drain.abort();
    server.stop().await?;
    let latencies = latencies(&sent, &arrivals);
    let expected = total * subscribers as u64;
    let p50 = quantile(&latencies, 0.50);
    let p99 = quantile(&latencies, 0.99);
    progress(format!(
        "fanout: {} of {expected} deliveries; p50 {p50:?}, p99 {p99:?}; RSS {rss_before:?} → {rss_after:?} KiB",
        latencies.len()
    ));
    let complete = latencies.len() as u64 == expected;
    rows.push(
        Row::new(
            format!(
                "Fan-out to {subscribers} subscribers of `dialogwatch serve` ({workers} workers), {}/s for {} s: delivery p50 / p99",
                rate, settings.fanout_seconds
            ),
            format!("{} / {}", milliseconds(p50), milliseconds(p99)),
        )
        .reference(format!("{} of {expected} deliveries", latencies.len()))
        .target(
            "p99 < 50 ms",
            Some(complete && p99 < Duration::from_millis(50)),
        ),
    );
    if report_memory {
        rows.push(
            Row::new(
                "Memory per subscriber (`dialogwatch serve` RSS delta / subscribers)",
                per_subscriber_kib.map_or_else(|| "n/a".to_string(), |kib| format!("{kib:.1} KiB")),
            )
            .target("—", None),
        );
    }
    Ok(())
}

/// Builds a store of `events` articles, each completed with a distinct synthetic
/// extraction (one CREATED feed event each), through the Store API.
async fn populate(path: &Path, events: usize, articles: &Arc<Articles>) -> anyhow::Result<f64> {
    const CHUNK: usize = 1000;
    let store = Store::open(store_config(path)).await?;
    // As the server does: feed events are also kept in their wire form.
    store.encode_feed_with(dialogwatch::feed::wire_encoder());
    let started = Instant::now();
    let mut done = 0usize;
    let mut reported = 0usize;
    while done < events {
        let count = CHUNK.min(events - done);
        let batch: Vec<NewArticle> = (0..count)
            .map(|_| NewArticle {
                request_id: None,
                content: articles.next_body(),
                is_html: false,
                url: None,
                outlet: None,
                published_at: None,
                title: None,
            })
            .collect();
        store.enqueue_batch(batch).await?;
        let mut leased = Vec::with_capacity(count);
        while leased.len() < count {
            let more = store
                .lease(100, Duration::from_secs(3600), Duration::from_secs(5))
                .await?;
            if more.is_empty() {
                bail!("the queue ran dry after {} of {count} leases", leased.len());
            }
            leased.extend(more);
        }
        let first = done as u64;
        let completions = futures_util::stream::iter(leased.into_iter().enumerate())
            .map(|(offset, lease)| {
                let store = store.clone();
                async move {
                    let article_id: ArticleId = lease.job.article_id.parse()?;
                    store
                        .complete(
                            article_id,
                            &lease.job.lease_id,
                            synthetic_extraction(first + offset as u64),
                        )
                        .await?;
                    Ok::<(), anyhow::Error>(())
                }
            })
            .buffer_unordered(64)
            .collect::<Vec<_>>()
            .await;
        for completion in completions {
            completion?;
        }
        done += count;
        if done - reported >= events / 10 || done == events {
            reported = done;
            progress(format!(
                "catchup: populated {done}/{events} ({:.0}/s)",
                done as f64 / started.elapsed().as_secs_f64()
            ));
        }
    }
    let rate = done as f64 / started.elapsed().as_secs_f64();
    // A search indexes every record still marked first: the server then
    // opens a store whose ListDialogues filter tokens are all written.
    let query = dialogwatch::store::search::parse_query("đối thoại")
        .map_err(|error| anyhow!("query: {error:?}"))?;
    store
        .search_dialogues(query, Default::default(), 1, None)
        .await?;
    store.close().await?;
    Ok(rate)
}

/// ListDialogues on the catch-up store of `records` records: per filter,
/// the median time of the first page of 50 over `rounds` × 5 calls (date
/// order), and how many records the page held.
async fn list_page_times(
    url: &str,
    rounds: usize,
    records: usize,
) -> anyhow::Result<Vec<(String, Duration, usize)>> {
    let mut client =
        proto::dialogue_service_client::DialogueServiceClient::new(connect(url).await?)
            .max_decoding_message_size(64 * 1024 * 1024);
    // Whether the store gathers one partner's entries or scans (see
    // `dialogwatch::store::index::GATHER_CAP`).
    let one_partner = if records / PARTNERS.len() < dialogwatch::store::index::GATHER_CAP {
        "gathered from its filter tokens"
    } else {
        "above the gathering cap: a scan"
    };
    let cases: [(String, proto::DialogueFilter); 4] = [
        ("no filter".to_string(), proto::DialogueFilter::default()),
        (
            format!(
                "one partner (1/{} of the records: {one_partner})",
                PARTNERS.len()
            ),
            proto::DialogueFilter {
                partners: vec![PARTNERS[2].1.to_string()],
                ..Default::default()
            },
        ),
        (
            "one partner and one edition (1 record)".to_string(),
            proto::DialogueFilter {
                partners: vec![PARTNERS[2].1.to_string()],
                edition: Some(7),
                ..Default::default()
            },
        ),
        (
            "the kind every record has (above the gathering cap: a scan)".to_string(),
            proto::DialogueFilter {
                kinds: vec![proto::DialogueKind::PolicyDialogue as i32],
                ..Default::default()
            },
        ),
    ];
    let mut times = Vec::new();
    for (name, filter) in cases {
        let mut calls = Vec::new();
        let mut returned = 0;
        for _ in 0..rounds.max(1) * 5 {
            let started = Instant::now();
            let page = client
                .list_dialogues(proto::ListDialoguesRequest {
                    page_size: 50,
                    page_token: String::new(),
                    filter: Some(filter.clone()),
                    order_by: String::new(),
                })
                .await?
                .into_inner();
            calls.push(started.elapsed().as_secs_f64());
            returned = page.dialogues.len();
        }
        times.push((name, Duration::from_secs_f64(median(&calls)), returned));
    }
    Ok(times)
}

/// Records/s replayed to one subscriber from sequence 0 up to `head`.
async fn replay(url: &str, head: u64) -> anyhow::Result<f64> {
    let channel = connect(url).await?;
    let started = Instant::now();
    let mut stream = watch_lean_from(
        channel,
        proto::WatchDialoguesRequest {
            from_sequence: 0,
            start_at_head: false,
            filter: None,
        },
    )
    .await?;
    let mut received = 0u64;
    let mut last_sequence = 0u64;
    while last_sequence < head {
        let event = tokio::time::timeout(DRAIN_PATIENCE, stream.message())
            .await
            .map_err(|_| anyhow!("replay stalled at sequence {last_sequence} of {head}"))??
            .ok_or_else(|| anyhow!("feed ended at sequence {last_sequence} of {head}"))?;
        received += 1;
        last_sequence = event.sequence;
    }
    Ok(received as f64 / started.elapsed().as_secs_f64())
}

async fn section_catchup(
    settings: &Settings,
    articles: &Arc<Articles>,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let events = settings.catchup_events;
    let temporary = temp_dir(settings, "catchup")?;
    let dir_path = settings
        .catchup_dir
        .clone()
        .unwrap_or_else(|| temporary.path().to_path_buf());
    let built_marker = dir_path.join(format!(
        "bench-populated-{events}-{}",
        settings.catchup_article_bytes
    ));
    // The stored articles: whole, or cut short (BENCH_CATCHUP_ARTICLE_BYTES) so a
    // million fit the disk; the replay reads records, not article texts.
    let stored_articles = if settings.catchup_article_bytes > 0 {
        Arc::new(articles.truncated(settings.catchup_article_bytes))
    } else {
        Arc::clone(articles)
    };
    let (populate_rate, bytes) = if built_marker.exists() {
        progress(format!(
            "catchup: reusing the store built in {} (BENCH_CATCHUP_DIR)",
            dir_path.display()
        ));
        let marker = std::fs::read_to_string(&built_marker)?;
        let mut figures = marker.split_whitespace();
        let rate = figures.next().unwrap_or_default().parse::<f64>()?;
        let bytes = figures.next().unwrap_or_default().parse::<u64>()?;
        (rate, bytes)
    } else {
        progress(format!(
            "catchup: populating {events} articles/records/feed events in {} (article text ≈ {:.0} bytes)",
            dir_path.display(),
            stored_articles.average_bytes()
        ));
        std::fs::create_dir_all(&dir_path)?;
        let rate = populate(&dir_path, events, &stored_articles).await?;
        let bytes = disk_usage(&dir_path);
        if settings.catchup_dir.is_some() {
            std::fs::write(&built_marker, format!("{rate} {bytes}\n"))?;
        }
        (rate, bytes)
    };
    let per_article = bytes as f64 / events as f64;
    progress(format!(
        "catchup: {bytes} bytes on disk, {per_article:.0} per article (article ≈ {:.0} bytes of text)",
        stored_articles.average_bytes()
    ));
    let server = ChildServer::start(&dir_path, 0, 16).await?;
    let url = server.url();
    let idle_kib = server.status_kib("VmRSS");
    let head = events as u64;
    let mut rates = Vec::new();
    for _ in 0..settings.rounds {
        rates.push(replay(&url, head).await?);
    }
    let rate = median(&rates);
    progress(format!(
        "catchup: replay {rate:.0} records/s (rounds {})",
        rounds_text(&rates)
    ));
    let list_times = list_page_times(&url, settings.rounds, events).await?;
    for (name, time, returned) in &list_times {
        progress(format!(
            "catchup: ListDialogues first page, {name}: {time:?} ({returned} of 50 returned)"
        ));
    }
    // Under load: a replay from 0 while 64 clients submit.
    let peak_reset = server.reset_peak_rss();
    let (load, replayed) = tokio::join!(
        unary_rate(&url, 64, settings.seconds, articles),
        replay(&url, head)
    );
    let load = load?;
    let replayed = replayed?;
    let peak_kib = server.status_kib("VmHWM");
    progress(format!(
        "catchup: under load: ingest {load:.0}/s with a replay at {replayed:.0}/s; server RSS idle {idle_kib:?} KiB, peak {peak_kib:?} KiB (reset: {peak_reset})"
    ));
    server.stop().await?;
    let mebibytes = |kib: Option<u64>| {
        kib.map_or_else(
            || "n/a".to_string(),
            |kib| format!("{:.0} MiB", kib as f64 / 1024.0),
        )
    };
    rows.push(
        Row::new(
            format!(
                "Catch-up replay from sequence 0, {} stored feed events (`dialogwatch serve`)",
                thousands(head)
            ),
            format!("{} records/s", thousands(rate.round() as u64)),
        )
        .reference(format!("store built at {}", per_second(populate_rate)))
        .target("≥ 200,000/s", Some(rate >= 200_000.0)),
    );
    for (name, time, returned) in list_times {
        rows.push(
            Row::new(
                format!(
                    "ListDialogues, first page of 50 of {} records (`dialogwatch serve`), {name}",
                    thousands(head)
                ),
                format!("{:.2} ms", time.as_secs_f64() * 1e3),
            )
            .reference(format!("{returned} of 50 returned; median of the calls"))
            .target("(diagnostic)", None),
        );
    }
    rows.push(
        Row::new(
            format!(
                "Peak RSS of `dialogwatch serve` holding {} articles, 64 clients submitting + a replay",
                thousands(head)
            ),
            mebibytes(peak_kib),
        )
        .reference(format!(
            "idle after open {}; ingest {} + replay {} records/s meanwhile{}",
            mebibytes(idle_kib),
            per_second(load),
            thousands(replayed.round() as u64),
            if peak_reset {
                ""
            } else {
                " (peak not reset: since start)"
            }
        ))
        .target("—", None),
    );
    rows.push(
        Row::new(
            "Disk per stored article (article + record + feed event, sled)",
            format!("{} bytes", thousands(per_article.round() as u64)),
        )
        .reference(format!(
            "article text ≈ {} bytes",
            thousands(stored_articles.average_bytes().round() as u64)
        ))
        .ratio(Some(per_article / stored_articles.average_bytes()))
        .target("—", None),
    );
    Ok(())
}

fn print_table(settings: &Settings, rows: &[Row], started: Instant) {
    let sections: Vec<&str> = ALL_SECTIONS
        .into_iter()
        .filter(|section| settings.wants(section))
        .collect();
    println!();
    println!("## dialogwatch service benchmarks");
    println!();
    println!(
        "command: `BENCH_ROUNDS={} BENCH_SECONDS={} BENCH_CATCHUP_EVENTS={} BENCH_CATCHUP_ARTICLE_BYTES={} cargo bench --bench service -- {}`",
        settings.rounds,
        settings.seconds,
        settings.catchup_events,
        settings.catchup_article_bytes,
        sections.join(" ")
    );
    println!(
        "peers: {}; temp dir: {}; allocator: {}; {} rounds, medians; took {:.0} s",
        settings
            .peers_source
            .as_ref()
            .map_or_else(|| "not run".to_string(), |path| path.display().to_string()),
        settings.temp_root.display(),
        dialogwatch::allocator::describe(),
        settings.rounds,
        started.elapsed().as_secs_f64()
    );
    println!();
    println!("| Metric | dialogwatch | Peer / ceiling | Ratio | Target | Met |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.metric, row.value, row.reference, row.ratio, row.target, row.met
        );
    }
}

async fn run_sections(settings: &Settings) -> anyhow::Result<Vec<Row>> {
    let corpus = dev_corpus()?;
    let articles = Arc::new(Articles::new(
        corpus.iter().map(|(_, text)| text.clone()).collect(),
    ));
    let mut rows = Vec::new();
    if settings.wants("extract") {
        section_extract(settings, &corpus, &mut rows);
    }
    let disk = if settings.wants("fsync") {
        Some(section_fsync(settings, &mut rows)?)
    } else {
        None
    };
    // The generated dialogue articles of the sled, e2e and fan-out sections.
    let template = if ["sled", "e2e", "fanout"]
        .iter()
        .any(|section| settings.wants(section))
    {
        Some(Arc::new(DialogueTemplate::from_corpus(&corpus)?))
    } else {
        None
    };
    if let (true, Some(template)) = (settings.wants("sled"), &template) {
        section_sled(settings, template, &mut rows)?;
    }
    if settings.wants("ingest") {
        section_ingest(settings, &articles, disk, &mut rows).await?;
    }
    if settings.wants("grpc") {
        quiet_disk().await;
        section_grpc(settings, &articles, &mut rows).await?;
    }
    if let Some(template) = &template {
        if settings.wants("e2e") {
            for &rate in &settings.e2e_rates {
                quiet_disk().await;
                section_end_to_end(settings, template, rate, &mut rows).await?;
            }
        }
        if settings.wants("fanout") {
            for (index, &rate) in settings.fanout_rates.iter().enumerate() {
                quiet_disk().await;
                section_fanout(settings, template, rate, index == 0, &mut rows).await?;
            }
        }
    }
    if settings.wants("catchup") {
        quiet_disk().await;
        section_catchup(settings, &articles, &mut rows).await?;
    }
    Ok(rows)
}

/// Writes out what earlier sections left dirty in the page cache (`sync`),
/// so a section does not share the disk with their writeback: the ingest
/// sections write gigabytes, which the kernel would otherwise write out
/// during the next sections, whose latencies include fsyncs. A failed
/// `sync` is reported, not fatal.
async fn quiet_disk() {
    let synced = tokio::task::spawn_blocking(|| std::process::Command::new("sync").status()).await;
    if !matches!(synced, Ok(Ok(status)) if status.success()) {
        progress(format!("sync between sections failed: {synced:?}"));
    }
}

fn main() -> anyhow::Result<()> {
    // As `dialogwatch` does: the in-process servers and stores run as theirs.
    dialogwatch::allocator::limit_malloc_arenas();
    let settings = Settings::from_environment()?;
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let rows = runtime.block_on(run_sections(&settings))?;
    print_table(&settings, &rows, started);
    Ok(())
}
