//! Crash safety under load: the real server binary is SIGKILLed at random
//! moments while clients submit, in-process workers extract and subscribers
//! follow the feed; it is restarted on the same data dir each time.
//! Afterwards nothing acknowledged is lost, every article is in exactly one
//! record, and every subscriber saw every feed event once, in order.

use crate::common::PATIENCE;
use dialogwatch::proto;
use dialogwatch::proto::article_service_client::ArticleServiceClient;
use dialogwatch::proto::dialogue_service_client::DialogueServiceClient;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// Distinct events; each is reported by two articles (two outlets).
const EVENTS: usize = 1000;
const CLIENTS: usize = 8;
const SUBSCRIBERS: usize = 3;
const KILLS: usize = 4;

const PARTNERS: [&str; 6] = [
    "Singapore",
    "Ấn Độ",
    "Nhật Bản",
    "Hàn Quốc",
    "Ô-xtrây-li-a",
    "Indonesia",
];

/// The report of event `event` by outlet `outlet` (0 or 1): same event, different wording.
fn report(event: usize, outlet: usize) -> String {
    let partner = PARTNERS[event % PARTNERS.len()];
    let edition = event / PARTNERS.len() + 1;
    if outlet == 0 {
        format!(
            "Sáng 12/6/2024, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến, Thứ trưởng Bộ Quốc phòng \
             đồng chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - {partner} lần thứ {edition}."
        )
    } else {
        format!(
            "Đối thoại Chính sách Quốc phòng Việt Nam - {partner} lần thứ {edition} đã diễn ra tại \
             Trụ sở Bộ Quốc phòng. Hai bên nhất trí tăng cường hợp tác đào tạo."
        )
    }
}

/// A small xorshift generator: no dependency, seed printed for replay.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }
}

/// The server process, restarted on the same data dir and port.
struct ServerProcess {
    child: Option<Child>,
    data_dir: std::path::PathBuf,
    port: u16,
}

impl ServerProcess {
    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_dialogwatch"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--metrics-listen",
                "off",
                "--workers",
                "2",
                "--lease-seconds",
                "2",
                "--retry-backoff-ms",
                "10",
            ])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("DIALOGWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the server");
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn channel(url: &str) -> Channel {
    Endpoint::from_shared(url.to_string())
        .expect("endpoint")
        .connect_timeout(Duration::from_millis(500))
        .connect_lazy()
}

/// Submits until acknowledged, riding out kills.
async fn submit_until_acknowledged(url: &str, text: String, url_of_report: String) -> String {
    let mut client = ArticleServiceClient::new(channel(url));
    let request = proto::SubmitArticleRequest {
        request_id: url_of_report.clone(),
        article: Some(proto::ArticleContent {
            body: Some(proto::article_content::Body::Text(text)),
            url: Some(url_of_report),
            ..Default::default()
        }),
    };
    loop {
        match client.submit_article(request.clone()).await {
            Ok(response) => return response.into_inner().article_id,
            Err(status) => {
                assert!(
                    matches!(
                        status.code(),
                        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
                    ),
                    "unexpected refusal: {status}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
                client = ArticleServiceClient::new(channel(url));
            }
        }
    }
}

/// Follows the feed, resuming from the last sequence seen after each disconnection.
async fn follow(url: String, total: Arc<AtomicUsize>, stop: Arc<AtomicBool>) -> Vec<u64> {
    let mut seen: Vec<u64> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let from_sequence = seen.last().copied().unwrap_or(0);
        let mut client = DialogueServiceClient::new(channel(&url));
        let opened = client
            .watch_dialogues(proto::WatchDialoguesRequest {
                from_sequence,
                ..Default::default()
            })
            .await;
        let Ok(response) = opened else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut stream = response.into_inner();
        loop {
            let wanted = total.load(Ordering::Relaxed);
            if wanted > 0 && seen.len() >= wanted {
                return seen;
            }
            match tokio::time::timeout(Duration::from_millis(500), stream.message()).await {
                Ok(Ok(Some(event))) => seen.push(event.sequence),
                Ok(Ok(None) | Err(_)) => break, // server went away: resume
                Err(_) => {
                    if stop.load(Ordering::Relaxed) {
                        return seen;
                    }
                }
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_across_repeated_kill_9() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x9e37_79b9, |elapsed| elapsed.as_nanos() as u64)
        | 1;
    let mut random = Random(seed);
    let mut server = ServerProcess {
        child: None,
        data_dir: data_dir.path().to_path_buf(),
        port: free_port(),
    };
    server.start();
    let url = server.url();

    let total_events = Arc::new(AtomicUsize::new(0));
    let stop_following = Arc::new(AtomicBool::new(false));
    let followers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            tokio::spawn(follow(
                url.clone(),
                Arc::clone(&total_events),
                Arc::clone(&stop_following),
            ))
        })
        .collect();

    // Every (event, outlet) pair, interleaved across clients.
    let reports: Vec<(usize, usize)> = (0..EVENTS)
        .flat_map(|event| [(event, 0), (event, 1)])
        .collect();
    let queue = Arc::new(Mutex::new(reports.into_iter().rev().collect::<Vec<_>>()));
    let acknowledged = Arc::new(Mutex::new(BTreeMap::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let acknowledged = Arc::clone(&acknowledged);
            let url = url.clone();
            tokio::spawn(async move {
                loop {
                    let next = queue
                        .lock()
                        .map(|mut pending| pending.pop())
                        .unwrap_or(None);
                    let Some((event, outlet)) = next else {
                        return;
                    };
                    let report_url = format!("https://outlet{outlet}.example.vn/event-{event}");
                    let article_id =
                        submit_until_acknowledged(&url, report(event, outlet), report_url).await;
                    if let Ok(mut acknowledged) = acknowledged.lock() {
                        acknowledged.insert((event, outlet), article_id);
                    }
                }
            })
        })
        .collect();

    let mut kills = 0;
    while kills < KILLS {
        tokio::time::sleep(Duration::from_millis(random.between(300, 1500))).await;
        server.kill();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(random.between(50, 300))).await;
        server.start();
    }
    for client in clients {
        tokio::time::timeout(PATIENCE * 3, client)
            .await
            .expect("submissions finish")
            .expect("client task");
    }
    let acknowledged = acknowledged
        .lock()
        .map(|map| map.clone())
        .unwrap_or_default();
    assert_eq!(acknowledged.len(), EVENTS * 2, "every report acknowledged");

    // Each report is one feed event (CREATED for the first, UPDATED for the second source).
    total_events.store(EVENTS * 2, Ordering::Relaxed);
    let mut delivered = Vec::new();
    for follower in followers {
        let seen = tokio::time::timeout(PATIENCE * 3, follower)
            .await
            .expect("subscribers catch up")
            .expect("follower task");
        let expected: Vec<u64> = (1..=(EVENTS * 2) as u64).collect();
        assert_eq!(seen, expected, "every event once, in order");
        delivered.push(seen.len());
    }
    stop_following.store(true, Ordering::Relaxed);

    // Every acknowledged article is stored, processed, and in exactly one record.
    let mut articles = ArticleServiceClient::new(channel(&url));
    let mut sources_per_record: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for article_id in acknowledged.values() {
        let article = articles
            .get_article(proto::GetArticleRequest {
                article_id: article_id.clone(),
            })
            .await
            .expect("acknowledged article is stored")
            .into_inner();
        assert_eq!(article.state(), proto::ArticleState::Done, "{article_id}");
        assert_eq!(
            article.dialogue_ids.len(),
            1,
            "{article_id} is in one record"
        );
        sources_per_record
            .entry(article.dialogue_ids[0].clone())
            .or_default()
            .insert(article_id.clone());
    }
    assert_eq!(
        sources_per_record.len(),
        EVENTS,
        "one record per distinct event"
    );
    assert!(sources_per_record
        .values()
        .all(|sources| sources.len() == 2));
    let mut dialogues = DialogueServiceClient::new(channel(&url));
    for (record_id, sources) in &sources_per_record {
        let record = dialogues
            .get_dialogue(proto::GetDialogueRequest {
                dialogue_id: record_id.clone(),
            })
            .await
            .expect("record")
            .into_inner();
        let listed: BTreeSet<String> = record
            .sources
            .into_iter()
            .map(|source| source.article_id)
            .collect();
        assert_eq!(
            &listed, sources,
            "{record_id} lists each report exactly once"
        );
    }
    println!(
        "crash test (seed {seed:#x}): articles acknowledged {}, kills survived {kills}, \
         records {}, events delivered per subscriber {delivered:?}, lost 0",
        acknowledged.len(),
        sources_per_record.len()
    );
    server.kill();
}
