//! The `dialogwatch` command line: `serve`, `worker`, `submit`, `get`,
//! `list`, `search`, `watch` (JSON Lines), `stats` (a table), the admin
//! `dead-letters`, `snapshot`, `reindex`, and the offline `extract` / `explain`.
//! Every flag also reads a `DIALOGWATCH_*` environment variable.

use crate::api::Limits;
use crate::auth::AuthConfig;
use crate::client::{AuthedChannel, ClientError, ClientOptions};
use crate::convert::{kind_from_proto, parse_date};
use crate::domain::DialogueRecord;
use crate::proto;
use crate::proto::admin_service_client::AdminServiceClient;
use crate::proto::article_service_client::ArticleServiceClient;
use crate::proto::dialogue_service_client::DialogueServiceClient;
use crate::server::{ServerConfig, ServerError, ServerTls};
use crate::store::{Store, StoreConfig, StoreError};
use crate::workers::{run_remote_workers, WorkerError, WorkerOptions};
use clap::{Args, Parser, Subcommand};
use dialogwatch_worker::record::PartialDate;
use dialogwatch_worker::{ArticleInput, Extractor};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;

/// dialogwatch: Vietnamese defence-diplomacy dialogues, extracted, merged and streamed.
#[derive(Debug, Parser)]
#[command(name = "dialogwatch", version, about)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, env = "DIALOGWATCH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax).
    #[arg(long, global = true, env = "DIALOGWATCH_LOG", default_value = "info")]
    pub log: String,
    /// Export trace spans over OTLP/gRPC to this collector (e.g. http://otel-collector:4317).
    #[arg(long, global = true, env = "DIALOGWATCH_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

pub use crate::telemetry::LogFormat;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC server with in-process workers.
    Serve(ServeArgs),
    /// Run workers in this process, leasing from a server over gRPC.
    Worker(WorkerArgs),
    /// Submit article files to a server.
    Submit(SubmitArgs),
    /// Show an article (art-N) or a dialogue record (dlg-…) as JSON.
    Get(GetArgs),
    /// List dialogue records as JSON Lines.
    List(ListArgs),
    /// Stream feed events as JSON Lines (backlog, then live).
    Watch(WatchArgs),
    /// Extract offline (no server): one SPEC §2 JSON object per file.
    Extract(ExtractArgs),
    /// Print the cleaned text with each field's evidence marked.
    Explain(ExtractArgs),
    /// List dead-lettered articles with their errors, or requeue one.
    DeadLetters(DeadLetterArgs),
    /// Write a consistent copy of the server's store to a new directory (on the server).
    Snapshot(SnapshotArgs),
    /// Full-text search of the records (JSON Lines: score, snippets, record).
    Search(SearchArgs),
    /// Record counts per partner, year and kind, as a table.
    Stats(StatsArgs),
    /// Extract every stored article again with the server's extractor and rebuild the records.
    Reindex(ServerArgs),
    /// Check the server's gRPC health (exit status 0 when SERVING): for container health checks.
    Health(ServerArgs),
}

/// `serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (created if missing).
    #[arg(long, env = "DIALOGWATCH_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "DIALOGWATCH_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// Address of the HTTP endpoints /metrics, /healthz, /readyz (`off` disables them).
    #[arg(
        long,
        env = "DIALOGWATCH_METRICS_LISTEN",
        default_value = "127.0.0.1:9464"
    )]
    pub metrics_listen: String,
    /// In-process workers (default: the number of cores; 0 = remote workers only).
    #[arg(long, env = "DIALOGWATCH_WORKERS")]
    pub workers: Option<usize>,
    /// Lease length in seconds.
    #[arg(long, env = "DIALOGWATCH_LEASE_SECONDS", default_value_t = 30)]
    pub lease_seconds: u64,
    /// Attempts before an article is dead-lettered.
    #[arg(long, env = "DIALOGWATCH_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: u32,
    /// sled's page cache in MiB (a replay of a feed larger than it reads pages from the file).
    #[arg(long, env = "DIALOGWATCH_CACHE_MB", default_value_t = StoreConfig::DEFAULT_CACHE_MIB)]
    pub cache_mb: u64,
    /// First retry delay in milliseconds (doubles per attempt).
    #[arg(long, env = "DIALOGWATCH_RETRY_BACKOFF_MS", default_value_t = 1000)]
    pub retry_backoff_ms: u64,
    /// Largest article accepted, in bytes.
    #[arg(long, env = "DIALOGWATCH_MAX_ARTICLE_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_article_bytes: usize,
    /// Largest gRPC message accepted, in bytes (default: the article limit plus 1 MiB).
    #[arg(long, env = "DIALOGWATCH_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Concurrent WatchDialogues streams allowed.
    #[arg(long, env = "DIALOGWATCH_MAX_SUBSCRIBERS", default_value_t = 1024)]
    pub max_subscribers: usize,
    /// Largest page a List/Search call may ask for.
    #[arg(long, env = "DIALOGWATCH_MAX_PAGE_SIZE", default_value_t = 1000)]
    pub max_page_size: usize,
    /// Most articles in one SubmitArticles stream.
    #[arg(long, env = "DIALOGWATCH_MAX_BULK_ITEMS", default_value_t = 10_000)]
    pub max_bulk_items: usize,
    /// Bearer tokens file: lines `<token> <scope>[,<scope>…]` (scopes submit, read, worker, admin).
    #[arg(long, env = "DIALOGWATCH_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// Require a `read` token for Get/List/Watch too (by default reads are open).
    #[arg(long, env = "DIALOGWATCH_PROTECT_READS")]
    pub protect_reads: bool,
    /// TLS certificate chain (PEM); enables TLS with --tls-key.
    #[arg(long, env = "DIALOGWATCH_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "DIALOGWATCH_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CA (PEM) for client certificates: enables mutual TLS.
    #[arg(long, env = "DIALOGWATCH_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

/// Where the server is and how to authenticate.
pub type ServerArgs = ClientOptions;

/// `worker` options.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Server to lease from.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Worker threads (default: the number of cores).
    #[arg(long, env = "DIALOGWATCH_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Lease length asked for, in seconds.
    #[arg(long, env = "DIALOGWATCH_LEASE_SECONDS", default_value_t = 30)]
    pub lease_seconds: u64,
}

/// `submit` options.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Article files (`.html`/`.htm` are sent as HTML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The article's URL (only with one file).
    #[arg(long)]
    pub url: Option<String>,
    /// Publication date: YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339.
    #[arg(long)]
    pub published_at: Option<String>,
    /// Outlet name.
    #[arg(long)]
    pub outlet: Option<String>,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `get` options.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// `art-N` or a dialogue id.
    pub id: String,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Record filters of `list` and `watch`.
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// Partner ISO code (repeatable).
    #[arg(long = "partner")]
    pub partners: Vec<String>,
    /// Kind, e.g. policy_dialogue (repeatable).
    #[arg(long = "kind")]
    pub kinds: Vec<String>,
    /// Event date from (inclusive).
    #[arg(long)]
    pub from_date: Option<String>,
    /// Event date to (inclusive).
    #[arg(long)]
    pub to_date: Option<String>,
    /// Edition number.
    #[arg(long)]
    pub edition: Option<u32>,
    /// Participant name, accents and case optional ("hoang xuan chien") (repeatable).
    #[arg(long = "participant")]
    pub participants: Vec<String>,
    /// Participant rank, e.g. "Thượng tướng" (repeatable).
    #[arg(long = "rank")]
    pub ranks: Vec<String>,
    /// Area code, e.g. cyber_security (repeatable).
    #[arg(long = "area")]
    pub areas: Vec<String>,
    /// Topic code, e.g. south_china_sea (repeatable).
    #[arg(long = "topic")]
    pub topics: Vec<String>,
    /// Document type, e.g. mou (repeatable).
    #[arg(long = "document-type")]
    pub document_types: Vec<String>,
    /// Relationship, e.g. strategic_partnership (repeatable).
    #[arg(long = "relationship")]
    pub relationships: Vec<String>,
}

/// `list` options.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Records per page.
    #[arg(long, default_value_t = 100)]
    pub page_size: i32,
    /// "date desc" (newest first, the default) or "sequence".
    #[arg(long, default_value = "date desc")]
    pub order_by: String,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `search` options.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words and "quoted phrases", accents optional.
    pub query: String,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// At most this many hits.
    #[arg(long, default_value_t = 20)]
    pub limit: i32,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `stats` options.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Only this partner (repeatable).
    #[arg(long = "partner")]
    pub partners: Vec<String>,
    /// JSON Lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `watch` options.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Events after this sequence (0: from the beginning).
    #[arg(long = "from", default_value_t = 0)]
    pub from_sequence: u64,
    /// Live events only.
    #[arg(long, conflicts_with = "from_sequence")]
    pub head: bool,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `dead-letters` options.
#[derive(Debug, Args)]
pub struct DeadLetterArgs {
    /// Requeue this article (attempts reset) instead of listing.
    #[arg(long)]
    pub retry: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: i32,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `snapshot` options.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Absolute path of a new directory on the server's filesystem.
    #[arg(long = "to")]
    pub path: PathBuf,
    /// Server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `extract` / `explain` options.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Article files (`.html`/`.htm` are read as HTML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The article's URL.
    #[arg(long)]
    pub url: Option<String>,
    /// Publication date: YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339.
    #[arg(long)]
    pub published_at: Option<String>,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bad flag value.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or output not written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// JSON encoding failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The server could not be reached.
    #[error("{0}")]
    Connect(#[from] ClientError),
    /// The server refused a call.
    #[error("server said {}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
    /// The store failed to open.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The server failed.
    #[error("server: {0}")]
    Server(#[from] ServerError),
    /// A worker failed.
    #[error("worker: {0}")]
    Worker(#[from] WorkerError),
}

fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn stdout_error(source: std::io::Error) -> CliError {
    CliError::Io {
        path: "<stdout>".to_string(),
        source,
    }
}

/// Runs a parsed command to completion. `shutdown` ends `serve`, `worker` and `watch`.
pub async fn execute(
    command: Command,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve(args, shutdown).await,
        Command::Worker(args) => worker(args, shutdown).await,
        Command::Submit(args) => submit(args).await,
        Command::Get(args) => get(args).await,
        Command::List(args) => list(args).await,
        Command::Watch(args) => watch(args, shutdown).await,
        Command::Extract(args) => extract(args),
        Command::Explain(args) => explain(args),
        Command::Health(args) => health(args).await,
        Command::DeadLetters(args) => dead_letters(args).await,
        Command::Snapshot(args) => snapshot(args).await,
        Command::Search(args) => search(args).await,
        Command::Stats(args) => stats(args).await,
        Command::Reindex(args) => reindex(args).await,
    }
}

async fn serve(
    args: ServeArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    let lease_duration = Duration::from_secs(args.lease_seconds.max(1));
    let store = Store::open(StoreConfig {
        path: args.data_dir.clone(),
        lease_duration,
        max_attempts: args.max_attempts.max(1),
        retry_backoff: Duration::from_millis(args.retry_backoff_ms),
        max_retry_backoff: Duration::from_secs(300),
        cache_bytes: args.cache_mb.max(1).saturating_mul(1024 * 1024),
    })
    .await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|source| CliError::Io {
            path: args.listen.clone(),
            source,
        })?;
    let read = |path: &PathBuf| std::fs::read(path).map_err(io_error(path));
    let auth = match &args.tokens_file {
        Some(path) => {
            let contents = String::from_utf8(read(path)?)
                .map_err(|_| CliError::Usage(format!("{}: not UTF-8", path.display())))?;
            AuthConfig::parse(&contents, !args.protect_reads)
                .map_err(|error| CliError::Usage(format!("{}: {error}", path.display())))?
        }
        None => AuthConfig::open(),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ServerTls {
            certificate_pem: read(cert)?,
            private_key_pem: read(key)?,
            client_ca_pem: args.tls_client_ca.as_ref().map(read).transpose()?,
        }),
        _ => None,
    };
    let metrics_listener = if args.metrics_listen == "off" {
        None
    } else {
        Some(
            tokio::net::TcpListener::bind(&args.metrics_listen)
                .await
                .map_err(|source| CliError::Io {
                    path: args.metrics_listen.clone(),
                    source,
                })?,
        )
    };
    let defaults = ServerConfig::default();
    let config = ServerConfig {
        workers: args.workers.unwrap_or(defaults.workers),
        worker_options: WorkerOptions {
            lease_duration,
            ..WorkerOptions::default()
        },
        limits: Limits {
            max_article_bytes: args.max_article_bytes,
            max_message_bytes: args
                .max_message_bytes
                .unwrap_or(args.max_article_bytes.saturating_add(1024 * 1024)),
            default_lease: lease_duration,
            max_page_size: args.max_page_size.max(1),
            default_page_size: Limits::default()
                .default_page_size
                .min(args.max_page_size.max(1)),
            max_bulk_items: args.max_bulk_items.max(1),
            ..Limits::default()
        },
        max_subscribers: args.max_subscribers,
        auth,
        tls,
        ..defaults
    };
    tracing::info!(
        data_dir = %args.data_dir.display(),
        listen = %args.listen,
        allocator = %crate::allocator::describe(),
        "starting"
    );
    crate::server::run_with_metrics(listener, metrics_listener, store, config, shutdown).await?;
    Ok(())
}

async fn connect(server: &ServerArgs) -> Result<AuthedChannel, CliError> {
    Ok(server.connect().await?)
}

async fn worker(
    args: WorkerArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    let channel = args.server.connect_lazy()?;
    let stop = CancellationToken::new();
    let stop_on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop_on_signal.cancel();
    });
    let count = args
        .concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let options = WorkerOptions {
        lease_duration: Duration::from_secs(args.lease_seconds.max(1)),
        ..WorkerOptions::default()
    };
    tracing::info!(server = %args.server.server, count, "workers starting");
    let stats =
        run_remote_workers(channel, count, options, stop, Arc::new(Extractor::new())).await?;
    tracing::info!(
        completed = stats.completed,
        failed = stats.failed,
        "workers stopped"
    );
    Ok(())
}

async fn dead_letters(args: DeadLetterArgs) -> Result<(), CliError> {
    let mut client = AdminServiceClient::new(connect(&args.server).await?);
    let mut stdout = std::io::stdout().lock();
    if let Some(article_id) = args.retry {
        let article = client
            .retry_dead_letter(proto::RetryDeadLetterRequest { article_id })
            .await?
            .into_inner();
        writeln!(stdout, "{}", article_json(&article)).map_err(stdout_error)?;
        return Ok(());
    }
    let listed = client
        .list_dead_letters(proto::ListDeadLettersRequest {
            page_size: args.limit,
        })
        .await?
        .into_inner();
    for article in &listed.articles {
        writeln!(stdout, "{}", article_json(article)).map_err(stdout_error)?;
    }
    Ok(())
}

async fn snapshot(args: SnapshotArgs) -> Result<(), CliError> {
    let mut client = AdminServiceClient::new(connect(&args.server).await?);
    let response = client
        .snapshot(proto::SnapshotRequest {
            path: args.path.display().to_string(),
        })
        .await?
        .into_inner();
    println!(
        "{}",
        serde_json::json!({"path": response.path, "entries": response.entries})
    );
    Ok(())
}

async fn health(args: ServerArgs) -> Result<(), CliError> {
    use tonic_health::pb::health_check_response::ServingStatus;
    let mut client = tonic_health::pb::health_client::HealthClient::new(connect(&args).await?);
    let response = client
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await?
        .into_inner();
    let status = response.status();
    println!("{}", status.as_str_name());
    if status == ServingStatus::Serving {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "server is {}",
            status.as_str_name()
        )))
    }
}

fn is_html_path(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            extension.eq_ignore_ascii_case("html") || extension.eq_ignore_ascii_case("htm")
        })
}

async fn submit(args: SubmitArgs) -> Result<(), CliError> {
    if args.url.is_some() && args.files.len() > 1 {
        return Err(CliError::Usage(
            "--url applies to one file only".to_string(),
        ));
    }
    let mut client = ArticleServiceClient::new(connect(&args.server).await?);
    let mut stdout = std::io::stdout().lock();
    for path in &args.files {
        let bytes = std::fs::read(path).map_err(io_error(path))?;
        let body = if is_html_path(path) {
            proto::article_content::Body::HtmlBytes(bytes)
        } else {
            proto::article_content::Body::TextBytes(bytes)
        };
        let request = proto::SubmitArticleRequest {
            request_id: String::new(),
            article: Some(proto::ArticleContent {
                body: Some(body),
                url: args.url.clone(),
                outlet: args.outlet.clone(),
                published_at: args.published_at.clone(),
                title: None,
            }),
        };
        let response = client.submit_article(request).await?.into_inner();
        let line = serde_json::json!({
            "file": path.display().to_string(),
            "article_id": response.article_id,
            "created": response.created,
        });
        writeln!(stdout, "{line}").map_err(stdout_error)?;
    }
    Ok(())
}

async fn get(args: GetArgs) -> Result<(), CliError> {
    let channel = connect(&args.server).await?;
    let json = if args.id.starts_with("art-") {
        let article = ArticleServiceClient::new(channel)
            .get_article(proto::GetArticleRequest {
                article_id: args.id.clone(),
            })
            .await?
            .into_inner();
        article_json(&article)
    } else {
        let record = DialogueServiceClient::new(channel)
            .get_dialogue(proto::GetDialogueRequest {
                dialogue_id: args.id.clone(),
            })
            .await?
            .into_inner();
        serde_json::to_value(record_from_proto(record)?)?
    };
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

fn article_json(article: &proto::Article) -> serde_json::Value {
    let state =
        proto::ArticleState::try_from(article.state).map_or("unspecified", |state| match state {
            proto::ArticleState::Unspecified => "unspecified",
            proto::ArticleState::Queued => "queued",
            proto::ArticleState::Processing => "processing",
            proto::ArticleState::Done => "done",
            proto::ArticleState::DeadLettered => "dead_lettered",
        });
    serde_json::json!({
        "article_id": article.article_id,
        "state": state,
        "url": article.url,
        "outlet": article.outlet,
        "published_at": article.published_at,
        "title": article.title,
        "attempts": article.attempts,
        "last_error": article.last_error,
        "dialogue_ids": article.dialogue_ids,
        "is_dialogue": article.is_dialogue,
        "reason": article.reason,
    })
}

/// A server record back in domain form (for JSON output).
fn record_from_proto(record: proto::DialogueRecord) -> Result<DialogueRecord, CliError> {
    crate::convert::record_from_proto(record)
        .map_err(|error| CliError::Usage(format!("server sent a malformed record: {error}")))
}

fn filter_to_proto(filter: &FilterArgs) -> Result<proto::DialogueFilter, CliError> {
    let mut kinds = Vec::with_capacity(filter.kinds.len());
    for name in &filter.kinds {
        let kind = proto::DialogueKind::from_str_name(&format!(
            "DIALOGUE_KIND_{}",
            name.to_ascii_uppercase()
        ))
        .filter(|kind| kind_from_proto(*kind).is_some())
        .ok_or_else(|| CliError::Usage(format!("--kind {name}: unknown kind")))?;
        kinds.push(kind as i32);
    }
    for (flag, value) in [
        ("--from-date", &filter.from_date),
        ("--to-date", &filter.to_date),
    ] {
        if let Some(text) = value {
            parse_date(flag, text).map_err(|error| CliError::Usage(error.to_string()))?;
        }
    }
    let mut document_types = Vec::with_capacity(filter.document_types.len());
    for name in &filter.document_types {
        let document_type = proto::DocumentType::from_str_name(&format!(
            "DOCUMENT_TYPE_{}",
            name.to_ascii_uppercase()
        ))
        .filter(|document_type| *document_type != proto::DocumentType::Unspecified)
        .ok_or_else(|| CliError::Usage(format!("--document-type {name}: unknown type")))?;
        document_types.push(document_type as i32);
    }
    Ok(proto::DialogueFilter {
        partners: filter.partners.clone(),
        kinds,
        date_from: filter.from_date.clone(),
        date_to: filter.to_date.clone(),
        edition: filter.edition,
        participants: filter.participants.clone(),
        ranks: filter.ranks.clone(),
        areas: filter.areas.clone(),
        topics: filter.topics.clone(),
        document_types,
        relationships: filter.relationships.clone(),
    })
}

async fn search(args: SearchArgs) -> Result<(), CliError> {
    let mut client = DialogueServiceClient::new(connect(&args.server).await?);
    let response = client
        .search_dialogues(proto::SearchDialoguesRequest {
            query: args.query.clone(),
            page_size: args.limit,
            page_token: String::new(),
            filter: Some(filter_to_proto(&args.filter)?),
        })
        .await?
        .into_inner();
    let mut stdout = std::io::stdout().lock();
    for hit in response.hits {
        let snippets: Vec<serde_json::Value> = hit
            .snippets
            .iter()
            .map(|snippet| serde_json::json!({"article_id": snippet.article_id, "text": snippet.text}))
            .collect();
        let record = match hit.dialogue {
            Some(record) => serde_json::to_value(record_from_proto(record)?)?,
            None => serde_json::Value::Null,
        };
        let line =
            serde_json::json!({"score": hit.score, "snippets": snippets, "dialogue": record});
        writeln!(stdout, "{line}").map_err(stdout_error)?;
    }
    Ok(())
}

/// The stats rows as a table: one line per partner and year, a column per kind.
pub fn stats_table(rows: &[proto::StatsRow]) -> String {
    let kinds: Vec<proto::DialogueKind> = [
        proto::DialogueKind::PolicyDialogue,
        proto::DialogueKind::StrategicDialogue,
        proto::DialogueKind::DefenceTalks,
        proto::DialogueKind::CourtesyCall,
        proto::DialogueKind::Consultation,
        proto::DialogueKind::Other,
    ]
    .to_vec();
    let short = |kind: proto::DialogueKind| {
        kind.as_str_name()
            .trim_start_matches("DIALOGUE_KIND_")
            .to_ascii_lowercase()
    };
    let mut lines: std::collections::BTreeMap<(String, String), Vec<u64>> =
        std::collections::BTreeMap::new();
    for row in rows {
        let year = row
            .year
            .map_or_else(|| "undated".to_string(), |year| year.to_string());
        let counts = lines
            .entry((row.partner.clone(), year))
            .or_insert_with(|| vec![0; kinds.len()]);
        if let Some(position) = kinds.iter().position(|kind| *kind as i32 == row.kind) {
            counts[position] += row.count;
        }
    }
    let mut header = format!("{:<8}{:<9}", "partner", "year");
    for kind in &kinds {
        let name = short(*kind);
        header.push_str(&format!("{name:>20}"));
    }
    header.push_str(&format!("{:>8}", "total"));
    let mut output = header;
    output.push('\n');
    let mut totals = vec![0u64; kinds.len()];
    for ((partner, year), counts) in &lines {
        let mut line = format!("{partner:<8}{year:<9}");
        for (position, count) in counts.iter().enumerate() {
            line.push_str(&format!("{count:>20}"));
            totals[position] += count;
        }
        line.push_str(&format!("{:>8}", counts.iter().sum::<u64>()));
        output.push_str(&line);
        output.push('\n');
    }
    let mut line = format!("{:<17}", "all");
    for count in &totals {
        line.push_str(&format!("{count:>20}"));
    }
    line.push_str(&format!("{:>8}", totals.iter().sum::<u64>()));
    output.push_str(&line);
    output.push('\n');
    output
}

async fn stats(args: StatsArgs) -> Result<(), CliError> {
    let mut client = DialogueServiceClient::new(connect(&args.server).await?);
    let response = client
        .get_stats(proto::GetStatsRequest {
            partners: args.partners.clone(),
        })
        .await?
        .into_inner();
    let mut stdout = std::io::stdout().lock();
    if args.json {
        for row in &response.rows {
            let kind = proto::DialogueKind::try_from(row.kind)
                .ok()
                .and_then(kind_from_proto)
                .map(|kind| kind.as_str());
            let line = serde_json::json!({"partner": row.partner, "year": row.year, "kind": kind, "count": row.count});
            writeln!(stdout, "{line}").map_err(stdout_error)?;
        }
    } else {
        write!(stdout, "{}", stats_table(&response.rows)).map_err(stdout_error)?;
    }
    Ok(())
}

async fn reindex(args: ServerArgs) -> Result<(), CliError> {
    let mut client = AdminServiceClient::new(connect(&args).await?);
    let response = client.reindex(proto::ReindexRequest {}).await?.into_inner();
    println!(
        "{}",
        serde_json::json!({
            "articles": response.articles,
            "created": response.created,
            "updated": response.updated,
            "unchanged": response.unchanged,
            "removed": response.removed,
            "feed_head": response.feed_head,
        })
    );
    Ok(())
}

async fn list(args: ListArgs) -> Result<(), CliError> {
    let mut client = DialogueServiceClient::new(connect(&args.server).await?);
    let filter = filter_to_proto(&args.filter)?;
    let mut page_token = String::new();
    let mut stdout = std::io::stdout().lock();
    loop {
        let page = client
            .list_dialogues(proto::ListDialoguesRequest {
                page_size: args.page_size,
                page_token: page_token.clone(),
                filter: Some(filter.clone()),
                order_by: args.order_by.clone(),
            })
            .await?
            .into_inner();
        for record in page.dialogues {
            let line = serde_json::to_string(&record_from_proto(record)?)?;
            writeln!(stdout, "{line}").map_err(stdout_error)?;
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = page.next_page_token;
    }
}

async fn watch(
    args: WatchArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    let mut client = DialogueServiceClient::new(connect(&args.server).await?);
    let request = proto::WatchDialoguesRequest {
        from_sequence: args.from_sequence,
        start_at_head: args.head,
        filter: Some(filter_to_proto(&args.filter)?),
    };
    let mut stream = client.watch_dialogues(request).await?.into_inner();
    tokio::pin!(shutdown);
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            () = &mut shutdown => return Ok(()),
        };
        let Some(event) = next else {
            return Ok(());
        };
        let event = event?;
        let event_type = match proto::FeedEventType::try_from(event.r#type) {
            Ok(proto::FeedEventType::Created) => "created",
            Ok(proto::FeedEventType::Updated) => "updated",
            _ => "unspecified",
        };
        let record = match event.dialogue {
            Some(record) => serde_json::to_value(record_from_proto(record)?)?,
            None => serde_json::Value::Null,
        };
        let line = serde_json::json!({
            "sequence": event.sequence,
            "type": event_type,
            "dialogue": record,
        });
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").map_err(stdout_error)?;
        stdout.flush().map_err(stdout_error)?;
    }
}

fn published_at(args: &ExtractArgs) -> Result<Option<PartialDate>, CliError> {
    args.published_at
        .as_deref()
        .map(|text| {
            parse_date("--published-at", text).map_err(|error| CliError::Usage(error.to_string()))
        })
        .transpose()
}

fn extract(args: ExtractArgs) -> Result<(), CliError> {
    let extractor = Extractor::new();
    let published_at = published_at(&args)?;
    let mut stdout = std::io::stdout().lock();
    for path in &args.files {
        let text = std::fs::read_to_string(path).map_err(io_error(path))?;
        let input = ArticleInput {
            text: &text,
            is_html: is_html_path(path),
            url: args.url.as_deref(),
            published_at,
            title: None,
        };
        let extraction = extractor.extract(&input);
        let url = args.url.clone().or_else(|| extraction.source_url.clone());
        let mut object = serde_json::json!({
            "file": path.display().to_string(),
            "url": url,
            "published_at": published_at.map(|date| date.to_string()),
            "is_dialogue": extraction.is_dialogue,
            "events": extraction.events,
        });
        if let (Some(reason), Some(map)) = (&extraction.reason, object.as_object_mut()) {
            map.insert(
                "reason".to_string(),
                serde_json::Value::String(reason.clone()),
            );
        }
        writeln!(stdout, "{object}").map_err(stdout_error)?;
    }
    Ok(())
}

fn explain(args: ExtractArgs) -> Result<(), CliError> {
    let extractor = Extractor::new();
    let published_at = published_at(&args)?;
    let mut stdout = std::io::stdout().lock();
    for path in &args.files {
        let text = std::fs::read_to_string(path).map_err(io_error(path))?;
        let input = ArticleInput {
            text: &text,
            is_html: is_html_path(path),
            url: args.url.as_deref(),
            published_at,
            title: None,
        };
        let explanation = extractor.explain(&input);
        writeln!(stdout, "=== {}", path.display()).map_err(stdout_error)?;
        writeln!(
            stdout,
            "{}",
            dialogwatch_worker::extract::render_explanation(&explanation)
        )
        .map_err(stdout_error)?;
    }
    Ok(())
}
