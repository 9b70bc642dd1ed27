//! Records over the real server: merging reports in every order, every
//! ListDialogues filter and paging, bad filter values, search with
//! unaccented queries, stats, and reindex after an extractor change.

use crate::common::{store_config, take_events, text_request, TestServer};
use dialogwatch::api::SharedExtractor;
use dialogwatch::proto;
use dialogwatch::proto::admin_service_client::AdminServiceClient;
use dialogwatch::ServerConfig;
use dialogwatch_worker::record::{
    Area, DialogueEvent, DialogueKind, Extraction, Location, Participant, Partner, Role,
};
use dialogwatch_worker::runner::Extract;
use dialogwatch_worker::ArticleInput;
use std::collections::BTreeMap;

/// A server without in-process workers: the test completes articles itself.
async fn bare_server(data_dir: &std::path::Path) -> TestServer {
    TestServer::start(data_dir, 0).await
}

fn person(name: &str, rank: Option<&str>) -> proto::Participant {
    proto::Participant {
        name: name.to_string(),
        rank: rank.map(str::to_string),
        position: None,
        side: "VN".to_string(),
        role: proto::ParticipantRole::CoChair as i32,
    }
}

fn event(
    partner: &str,
    kind: proto::DialogueKind,
    edition: Option<u32>,
    date: &str,
) -> proto::DialogueEvent {
    proto::DialogueEvent {
        primary: true,
        kind: kind as i32,
        partner: Some(proto::Partner {
            code: partner.to_string(),
            name_vi: partner.to_string(),
            name_en: partner.to_string(),
        }),
        edition,
        date: Some(date.to_string()),
        location: Some(proto::Location::default()),
        ..Default::default()
    }
}

fn extraction(events: Vec<proto::DialogueEvent>) -> proto::Extraction {
    proto::Extraction {
        is_dialogue: true,
        source_url: None,
        reason: None,
        events,
    }
}

/// Submits `text` (from `outlet`) and completes it with `extraction` over the
/// worker API, as a remote worker would. Returns the record ids.
async fn submit_and_complete(
    server: &TestServer,
    text: &str,
    outlet: &str,
    extraction: proto::Extraction,
) -> Vec<String> {
    let mut request = text_request(text, None);
    if let Some(article) = request.article.as_mut() {
        article.outlet = Some(outlet.to_string());
    }
    let submitted = server
        .articles()
        .await
        .submit_article(request)
        .await
        .expect("submit")
        .into_inner();
    let mut workers = server.workers().await;
    let leased = workers
        .lease_articles(proto::LeaseArticlesRequest {
            worker_id: "test".to_string(),
            max_articles: 1,
            lease_seconds: 60,
            wait_millis: 5_000,
        })
        .await
        .expect("lease")
        .into_inner()
        .articles;
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].article_id, submitted.article_id);
    workers
        .complete_article(proto::CompleteArticleRequest {
            article_id: leased[0].article_id.clone(),
            lease_id: leased[0].lease_id.clone(),
            extraction: Some(extraction),
        })
        .await
        .expect("complete")
        .into_inner()
        .dialogue_ids
}

async fn list_all(
    server: &TestServer,
    filter: proto::DialogueFilter,
    order_by: &str,
    page_size: i32,
) -> Vec<proto::DialogueRecord> {
    let mut client = server.dialogues().await;
    let mut records = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_dialogues(proto::ListDialoguesRequest {
                page_size,
                page_token: page_token.clone(),
                filter: Some(filter.clone()),
                order_by: order_by.to_string(),
            })
            .await
            .expect("list")
            .into_inner();
        records.extend(page.dialogues);
        if page.next_page_token.is_empty() {
            return records;
        }
        page_token = page.next_page_token;
    }
}

/// Three outlets' reports of the 14th SG policy dialogue, each lacking something.
fn three_reports() -> Vec<(&'static str, &'static str, proto::Extraction)> {
    let mut first = event(
        "SG",
        proto::DialogueKind::PolicyDialogue,
        Some(14),
        "2023-10-05",
    );
    first.participants = vec![person("Hoàng Xuân Chiến", None)];
    let mut second = event(
        "SG",
        proto::DialogueKind::PolicyDialogue,
        None,
        "2023-10-05",
    );
    second.participants = vec![person("Hoàng Xuân Chiến", Some("Thượng tướng"))];
    second.areas = vec!["cyber_security".to_string()];
    second.location = Some(proto::Location {
        country: Some("VN".into()),
        city: Some("Hà Nội".into()),
        venue: None,
    });
    let mut third = event(
        "SG",
        proto::DialogueKind::PolicyDialogue,
        Some(14),
        "2023-10-05",
    );
    third.topics = vec!["south_china_sea".to_string()];
    third.relationship = Some("strategic_partnership".to_string());
    vec![
        (
            "Quân đội nhân dân: Đối thoại lần thứ 14",
            "qdnd.vn",
            extraction(vec![first]),
        ),
        (
            "VnExpress: đối thoại chính sách quốc phòng",
            "vnexpress.net",
            extraction(vec![second]),
        ),
        (
            "Tuổi Trẻ: Việt Nam - Singapore đối thoại",
            "tuoitre.vn",
            extraction(vec![third]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_in_every_order_give_one_record_with_the_same_content() {
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut expected: Option<(String, proto::DialogueEvent, Vec<Option<String>>)> = None;
    for order in orders {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let server = bare_server(data_dir.path()).await;
        let reports = three_reports();
        for index in order {
            let (text, outlet, extraction) = &reports[index];
            let ids = submit_and_complete(&server, text, outlet, extraction.clone()).await;
            assert_eq!(ids.len(), 1);
        }
        let records = list_all(&server, proto::DialogueFilter::default(), "", 10).await;
        assert_eq!(records.len(), 1, "order {order:?}");
        let record = records.into_iter().next().expect("record");
        assert_eq!(record.sources.len(), 3, "every outlet is a source");
        let event = record.event.clone().expect("event");
        assert_eq!(event.edition, Some(14));
        assert_eq!(event.participants[0].rank.as_deref(), Some("Thượng tướng"));
        assert_eq!(event.areas, ["cyber_security"]);
        assert_eq!(event.topics, ["south_china_sea"]);
        let mut outlets: Vec<Option<String>> = record
            .sources
            .iter()
            .map(|source| source.outlet.clone())
            .collect();
        outlets.sort();
        let content = (record.id.clone(), event, outlets);
        match &expected {
            None => expected = Some(content),
            Some(known) => assert_eq!(&content, known, "order {order:?}"),
        }
        server.stop().await;
    }
}

/// The status of a refused call must name `field`.
fn assert_names_field(status: &tonic::Status, field: &str) {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let violations = details
        .bad_request()
        .map(|bad| bad.field_violations.clone())
        .unwrap_or_default();
    assert!(
        violations.iter().any(|violation| violation.field == field),
        "{field} in {violations:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_combine_page_and_refuse_unknown_codes() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = bare_server(data_dir.path()).await;
    let partners = ["SG", "JP", "US"];
    for index in 0..24u32 {
        let partner = partners[index as usize % 3];
        let kind = if index % 2 == 0 {
            proto::DialogueKind::DefenceTalks
        } else {
            proto::DialogueKind::CourtesyCall
        };
        let mut generated = event(
            partner,
            kind,
            None,
            &format!("20{:02}-0{}-1{}", 10 + index, 1 + index % 9, index % 10),
        );
        generated.participants = vec![if index % 4 == 0 {
            person("Hoàng Xuân Chiến", Some("Thượng tướng"))
        } else {
            person("Phan Văn Giang", Some("Đại tướng"))
        }];
        if index % 3 == 1 {
            generated.areas = vec!["naval".to_string()];
        }
        if index % 5 == 0 {
            generated.documents = vec![proto::Document {
                r#type: proto::DocumentType::Mou as i32,
                title: None,
                signed_at_event: true,
            }];
        }
        submit_and_complete(
            &server,
            &format!("Bài {index}"),
            "báo",
            extraction(vec![generated]),
        )
        .await;
    }
    let everything = list_all(&server, proto::DialogueFilter::default(), "date desc", 5).await;
    assert_eq!(everything.len(), 24);
    let dates: Vec<String> = everything
        .iter()
        .filter_map(|record| record.event.as_ref().and_then(|event| event.date.clone()))
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|left, right| right.cmp(left));
    assert_eq!(dates, sorted, "newest first");
    let by_sequence = list_all(&server, proto::DialogueFilter::default(), "sequence", 7).await;
    assert!(by_sequence
        .windows(2)
        .all(|pair| pair[0].sequence < pair[1].sequence));

    // Unaccented, lower-case names find the accented ones.
    let chien = list_all(
        &server,
        proto::DialogueFilter {
            participants: vec!["hoang xuan chien".into()],
            ..Default::default()
        },
        "",
        4,
    )
    .await;
    assert_eq!(chien.len(), 6);
    // AND across fields, OR within one.
    let combined = list_all(
        &server,
        proto::DialogueFilter {
            partners: vec!["SG".into(), "JP".into()],
            kinds: vec![proto::DialogueKind::CourtesyCall as i32],
            areas: vec!["naval".into()],
            ranks: vec!["dai tuong".into()],
            ..Default::default()
        },
        "",
        2,
    )
    .await;
    let expected = everything
        .iter()
        .filter(|record| {
            let event = record.event.as_ref().expect("event");
            let partner = event.partner.as_ref().map(|partner| partner.code.as_str());
            matches!(partner, Some("SG" | "JP"))
                && event.kind() == proto::DialogueKind::CourtesyCall
                && event.areas.contains(&"naval".to_string())
                && event
                    .participants
                    .iter()
                    .any(|person| person.rank.as_deref() == Some("Đại tướng"))
        })
        .count();
    assert!(expected > 0);
    assert_eq!(combined.len(), expected);
    let mou = list_all(
        &server,
        proto::DialogueFilter {
            document_types: vec![proto::DocumentType::Mou as i32],
            date_from: Some("2015".into()),
            ..Default::default()
        },
        "",
        3,
    )
    .await;
    assert_eq!(
        mou.len(),
        4,
        "indexes 0, 5, 10, 15, 20 have an MoU (years 2010…2030); from 2015 leaves four"
    );

    // Unknown codes and foreign tokens are refused, naming the field.
    let mut client = server.dialogues().await;
    let refused =
        |filter: proto::DialogueFilter, order_by: &str, token: &str| proto::ListDialoguesRequest {
            page_size: 5,
            page_token: token.to_string(),
            filter: Some(filter),
            order_by: order_by.to_string(),
        };
    for (request, field) in [
        (
            refused(
                proto::DialogueFilter {
                    areas: vec!["cyber".into()],
                    ..Default::default()
                },
                "",
                "",
            ),
            "filter.areas",
        ),
        (
            refused(
                proto::DialogueFilter {
                    topics: vec!["four_yes".into()],
                    ..Default::default()
                },
                "",
                "",
            ),
            "filter.topics",
        ),
        (
            refused(
                proto::DialogueFilter {
                    relationships: vec!["friends".into()],
                    ..Default::default()
                },
                "",
                "",
            ),
            "filter.relationships",
        ),
        (
            refused(
                proto::DialogueFilter {
                    document_types: vec![99],
                    ..Default::default()
                },
                "",
                "",
            ),
            "filter.document_types",
        ),
        (
            refused(
                proto::DialogueFilter {
                    participants: vec!["  ".into()],
                    ..Default::default()
                },
                "",
                "",
            ),
            "filter.participants",
        ),
        (
            refused(proto::DialogueFilter::default(), "popularity", ""),
            "order_by",
        ),
    ] {
        let status = client.list_dialogues(request).await.expect_err("refused");
        assert_names_field(&status, field);
    }
    let first = client
        .list_dialogues(refused(proto::DialogueFilter::default(), "", ""))
        .await
        .expect("page")
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let status = client
        .list_dialogues(refused(
            proto::DialogueFilter {
                partners: vec!["SG".into()],
                ..Default::default()
            },
            "",
            &first.next_page_token,
        ))
        .await
        .expect_err("token of another query");
    assert_names_field(&status, "page_token");
    let status = client
        .list_dialogues(refused(
            proto::DialogueFilter::default(),
            "sequence",
            &first.next_page_token,
        ))
        .await
        .expect_err("token of another order");
    assert_names_field(&status, "page_token");

    // The feed takes the same filters.
    let mut watch = client
        .watch_dialogues(proto::WatchDialoguesRequest {
            from_sequence: 0,
            start_at_head: false,
            filter: Some(proto::DialogueFilter {
                participants: vec!["HOANG XUAN CHIEN".into()],
                areas: vec!["naval".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("watch")
        .into_inner();
    // Index 4 and 16 have both (4 % 4 == 0 and 4 % 3 == 1; 16 likewise).
    let events = take_events(&mut watch, 2).await;
    for event in events {
        let record = event.dialogue.expect("record");
        let event = record.event.expect("event");
        assert_eq!(event.areas, ["naval"]);
        assert_eq!(event.participants[0].name, "Hoàng Xuân Chiến");
    }
    server.stop().await;
}

const SG_TEXT: &str =
    "Chiều 5/10, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến, Thứ trưởng Bộ Quốc phòng \
chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 14. Hai bên trao đổi về \
tình hình Biển Đông, hợp tác an ninh mạng và hoà bình khu vực.";
const JP_TEXT: &str =
    "Sáng 4/5, Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Nhật Bản. \
Hai bên nhất trí thúc đẩy hợp tác gìn giữ hòa bình.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unaccented_searches_find_accented_records_with_snippets() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = bare_server(data_dir.path()).await;
    let mut sg = event(
        "SG",
        proto::DialogueKind::PolicyDialogue,
        Some(14),
        "2023-10-05",
    );
    sg.participants = vec![person("Hoàng Xuân Chiến", Some("Thượng tướng"))];
    submit_and_complete(&server, SG_TEXT, "qdnd.vn", extraction(vec![sg])).await;
    let mut jp = event("JP", proto::DialogueKind::DefenceTalks, None, "2023-05-04");
    jp.participants = vec![person("Phan Văn Giang", Some("Đại tướng"))];
    submit_and_complete(&server, JP_TEXT, "vnexpress.net", extraction(vec![jp])).await;

    let mut client = server.dialogues().await;
    let search = |query: &str, partners: Vec<String>| {
        let request = proto::SearchDialoguesRequest {
            query: query.to_string(),
            page_size: 10,
            page_token: String::new(),
            filter: Some(proto::DialogueFilter {
                partners,
                ..Default::default()
            }),
        };
        let mut client = client.clone();
        async move {
            client
                .search_dialogues(request)
                .await
                .expect("search")
                .into_inner()
                .hits
        }
    };
    let hits = search("hoang xuan chien", Vec::new()).await;
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0]
            .snippets
            .iter()
            .any(|snippet| snippet.text.contains("«Hoàng»")
                || snippet.text.contains("«Hoàng Xuân Chiến»")),
        "{:?}",
        hits[0].snippets
    );
    let phrase = search("\"doi thoai chinh sach quoc phong\"", Vec::new()).await;
    assert_eq!(phrase.len(), 1);
    assert!(phrase[0]
        .snippets
        .iter()
        .any(|snippet| snippet.text.contains("«Đối thoại Chính sách Quốc phòng»")));
    assert_eq!(
        search("hoà bình", Vec::new()).await.len(),
        2,
        "old and new tone placement"
    );
    assert_eq!(search("hoa binh", vec!["JP".into()]).await.len(), 1);
    assert!(search("\"binh hoa\"", Vec::new()).await.is_empty());
    let ranked = search("hop tac", Vec::new()).await;
    assert_eq!(ranked.len(), 2);
    assert!(ranked[0].score >= ranked[1].score);
    let status = client
        .search_dialogues(proto::SearchDialoguesRequest {
            query: " ,, ".to_string(),
            ..Default::default()
        })
        .await
        .expect_err("empty query");
    assert_names_field(&status, "query");

    // Stats: one row per partner, year and kind.
    let stats = client
        .get_stats(proto::GetStatsRequest::default())
        .await
        .expect("stats")
        .into_inner();
    let rows: Vec<(String, Option<i32>, i32, u64)> = stats
        .rows
        .iter()
        .map(|row| (row.partner.clone(), row.year, row.kind, row.count))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "JP".to_string(),
                Some(2023),
                proto::DialogueKind::DefenceTalks as i32,
                1
            ),
            (
                "SG".to_string(),
                Some(2023),
                proto::DialogueKind::PolicyDialogue as i32,
                1
            ),
        ]
    );
    let table = dialogwatch::cli::stats_table(&stats.rows);
    assert!(
        table
            .lines()
            .any(|line| line.starts_with("SG") && line.contains("2023")),
        "{table}"
    );
    server.stop().await;
}

/// An engine whose answer is a function of the text; `version` 2 adds an
/// area to the Singapore dialogue (and nothing else).
struct Scripted {
    version: u32,
}

impl Extract for Scripted {
    fn extract(&self, input: &ArticleInput<'_>) -> Extraction {
        let base = |code: &str, kind: DialogueKind, date: &str| DialogueEvent {
            primary: true,
            kind,
            partner: Partner {
                code: code.to_string(),
                name_vi: code.to_string(),
                name_en: code.to_string(),
            },
            edition: None,
            date: Some(date.parse().expect("date")),
            location: Location::default(),
            relationship: None,
            participants: vec![Participant {
                name: "Hoàng Xuân Chiến".to_string(),
                rank: None,
                position: None,
                side: "VN".to_string(),
                role: Role::CoChair,
            }],
            documents: Vec::new(),
            areas: Vec::new(),
            topics: Vec::new(),
            previous: None,
            evidence: Vec::new(),
        };
        let mut events = Vec::new();
        if input.text.contains("Singapore") {
            let mut sg = base("SG", DialogueKind::PolicyDialogue, "2023-10-05");
            if self.version >= 2 {
                sg.areas = vec![Area::CyberSecurity];
            }
            events.push(sg);
        }
        if input.text.contains("Nhật Bản") {
            events.push(base("JP", DialogueKind::DefenceTalks, "2023-05-04"));
        }
        if input.text.contains("Ấn Độ") {
            let mut undated = base("IN", DialogueKind::CourtesyCall, "2022-01-09");
            undated.date = None;
            events.push(undated);
        }
        Extraction {
            is_dialogue: !events.is_empty(),
            source_url: None,
            reason: None,
            events,
        }
    }
}

async fn scripted_server(data_dir: &std::path::Path, version: u32) -> TestServer {
    let config = ServerConfig {
        workers: 1,
        extractor: Some(SharedExtractor::new(Scripted { version })),
        ..ServerConfig::default()
    };
    TestServer::start_with(store_config(data_dir), config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_after_an_extractor_change_updates_only_the_changed_records() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = scripted_server(data_dir.path(), 1).await;
    let mut articles = server.articles().await;
    for text in [
        "Đối thoại Việt Nam - Singapore",
        "Singapore: đối thoại chính sách",
        "Hội đàm với Nhật Bản",
        "Tiếp xã giao Ấn Độ",
    ] {
        articles
            .submit_article(text_request(text, None))
            .await
            .expect("submit");
    }
    // Three records: SG (two reports), JP, IN — wait for them on the feed.
    let mut feed = server
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let mut latest: BTreeMap<String, proto::DialogueRecord> = BTreeMap::new();
    while latest.len() < 3
        || latest
            .values()
            .map(|record| record.sources.len())
            .sum::<usize>()
            < 4
    {
        let event = take_events(&mut feed, 1).await.remove(0);
        let record = event.dialogue.expect("record");
        latest.insert(record.id.clone(), record);
    }
    drop(feed);
    server.stop().await;

    // A new deploy with a changed extractor.
    let server = scripted_server(data_dir.path(), 2).await;
    let mut dialogues = server.dialogues().await;
    let mut admin = AdminServiceClient::new(server.channel().await);
    let head_before = list_all(&server, proto::DialogueFilter::default(), "sequence", 10)
        .await
        .iter()
        .map(|record| record.sequence)
        .max()
        .unwrap_or(0);
    let mut cyber_watch = dialogues
        .watch_dialogues(proto::WatchDialoguesRequest {
            from_sequence: 0,
            start_at_head: false,
            filter: Some(proto::DialogueFilter {
                areas: vec!["cyber_security".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("watch")
        .into_inner();
    let outcome = admin
        .reindex(proto::ReindexRequest {})
        .await
        .expect("reindex")
        .into_inner();
    assert_eq!(outcome.articles, 4);
    assert_eq!(
        (
            outcome.updated,
            outcome.unchanged,
            outcome.created,
            outcome.removed
        ),
        (1, 2, 0, 0),
        "SG changed; JP and IN did not"
    );
    assert_eq!(outcome.feed_head, head_before + 1, "one event in all");
    let mut after = dialogues
        .watch_dialogues(proto::WatchDialoguesRequest {
            from_sequence: head_before,
            start_at_head: false,
            filter: None,
        })
        .await
        .expect("watch")
        .into_inner();
    let updated = take_events(&mut after, 1).await.remove(0);
    assert_eq!(updated.r#type, proto::FeedEventType::Updated as i32);
    let record = updated.dialogue.expect("record");
    assert!(latest.contains_key(&record.id), "the id is stable");
    assert_eq!(record.event.expect("event").areas, ["cyber_security"]);
    // The filtered subscriber gets exactly that event.
    let seen = take_events(&mut cyber_watch, 1).await.remove(0);
    assert_eq!(seen.sequence, updated.sequence);

    // Reindexing again with the same extractor changes nothing.
    let again = admin
        .reindex(proto::ReindexRequest {})
        .await
        .expect("reindex")
        .into_inner();
    assert_eq!(
        (again.updated, again.unchanged, again.feed_head),
        (0, 3, outcome.feed_head)
    );
    server.stop().await;
}
