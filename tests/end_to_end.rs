//! Submit → queue → in-process workers → records → feed, across restarts.

use crate::common::{dev_corpus, take_events, text_request, wait_until_settled, TestServer};
use dialogwatch::proto;
use std::collections::BTreeSet;

/// (kind, partner) of every event the gold answers list.
fn gold_events(gold: &serde_json::Value) -> Vec<(String, String)> {
    gold["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|event| {
                    (
                        event["kind"].as_str().unwrap_or_default().to_string(),
                        event["partner"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn kind_code(record: &proto::DialogueRecord) -> (String, String) {
    let event = record.event.clone().unwrap_or_default();
    let kind = match event.kind() {
        proto::DialogueKind::PolicyDialogue => "policy_dialogue",
        proto::DialogueKind::StrategicDialogue => "strategic_dialogue",
        proto::DialogueKind::DefenceTalks => "defence_talks",
        proto::DialogueKind::CourtesyCall => "courtesy_call",
        proto::DialogueKind::Consultation => "consultation",
        proto::DialogueKind::Other => "other",
        proto::DialogueKind::Unspecified => "unspecified",
    };
    (kind.to_string(), event.partner.unwrap_or_default().code)
}

async fn submit_dev_corpus(server: &TestServer) -> Vec<(String, serde_json::Value)> {
    let mut client = server.articles().await;
    let mut submitted = Vec::new();
    for (name, text, gold) in dev_corpus() {
        let response = client
            .submit_article(text_request(&text, None))
            .await
            .expect("submit")
            .into_inner();
        assert!(response.created, "{name} is new");
        submitted.push((response.article_id, gold));
    }
    submitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_articles_stream_out_as_records() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 2).await;
    let mut watch = server
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();

    let submitted = submit_dev_corpus(&server).await;
    let expected: Vec<(String, String)> = submitted
        .iter()
        .flat_map(|(_, gold)| gold_events(gold))
        .collect();
    let events = take_events(&mut watch, expected.len()).await;

    let sequences: Vec<u64> = events.iter().map(|event| event.sequence).collect();
    assert!(
        sequences.windows(2).all(|pair| pair[0] < pair[1]),
        "{sequences:?}"
    );
    assert_eq!(sequences.first(), Some(&1));
    let received: BTreeSet<(String, String)> = events
        .iter()
        .filter_map(|event| event.dialogue.as_ref().map(kind_code))
        .collect();
    let wanted: BTreeSet<(String, String)> = expected.into_iter().collect();
    assert_eq!(received, wanted);
    assert!(events
        .iter()
        .all(|event| event.r#type() == proto::FeedEventType::Created));

    let mut articles = server.articles().await;
    let mut dialogues = server.dialogues().await;
    for (article_id, gold) in &submitted {
        let article = wait_until_settled(&mut articles, article_id).await;
        assert_eq!(article.state(), proto::ArticleState::Done);
        assert_eq!(article.is_dialogue, Some(true));
        let mut produced = BTreeSet::new();
        for dialogue_id in &article.dialogue_ids {
            let record = dialogues
                .get_dialogue(proto::GetDialogueRequest {
                    dialogue_id: dialogue_id.clone(),
                })
                .await
                .expect("get dialogue")
                .into_inner();
            assert!(record
                .sources
                .iter()
                .any(|source| &source.article_id == article_id));
            produced.insert(kind_code(&record));
        }
        let gold_set: BTreeSet<(String, String)> = gold_events(gold).into_iter().collect();
        assert_eq!(produced, gold_set, "records of {article_id}");
    }
    server.stop().await;
}

/// A made-up report of a dialogue that is not in the dev corpus.
fn made_up_article(partner: &str, edition: u32, guest: &str) -> String {
    format!(
        "Sáng 12/6/2024, tại Trụ sở Bộ Quốc phòng, Thượng tướng Hoàng Xuân Chiến, \
Thứ trưởng Bộ Quốc phòng và ông {guest}, Thư ký Quốc phòng {partner} đồng chủ trì \
Đối thoại Chính sách Quốc phòng Việt Nam - {partner} lần thứ {edition}.\n\
Hai bên nhất trí tăng cường hợp tác đào tạo, gìn giữ hòa bình và công nghiệp quốc phòng."
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_records_and_resuming_is_exact() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 2).await;
    let submitted = submit_dev_corpus(&server).await;
    let total: usize = submitted
        .iter()
        .map(|(_, gold)| gold_events(gold).len())
        .sum();
    let mut watch = server
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let before = take_events(&mut watch, total).await;
    drop(watch);
    server.stop().await;

    let server = TestServer::start(data_dir.path(), 2).await;
    let mut articles = server.articles().await;
    for (article_id, _) in &submitted {
        let article = articles
            .get_article(proto::GetArticleRequest {
                article_id: article_id.clone(),
            })
            .await
            .expect("article survives restart")
            .into_inner();
        assert_eq!(article.state(), proto::ArticleState::Done);
    }
    let listed = server
        .dialogues()
        .await
        .list_dialogues(proto::ListDialoguesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.dialogues.len(), total);

    let resume_from = 3u64;
    let mut resumed = server
        .dialogues()
        .await
        .watch_dialogues(proto::WatchDialoguesRequest {
            from_sequence: resume_from,
            ..Default::default()
        })
        .await
        .expect("resume")
        .into_inner();
    let after = take_events(&mut resumed, total - resume_from as usize).await;
    let expected_tail: Vec<(u64, String)> = before
        .iter()
        .filter(|event| event.sequence > resume_from)
        .map(|event| {
            (
                event.sequence,
                event.dialogue.clone().unwrap_or_default().id,
            )
        })
        .collect();
    let received_tail: Vec<(u64, String)> = after
        .iter()
        .map(|event| {
            (
                event.sequence,
                event.dialogue.clone().unwrap_or_default().id,
            )
        })
        .collect();
    assert_eq!(received_tail, expected_tail);

    // The same stream carries on live, with the next sequence and no duplicate.
    articles
        .submit_article(text_request(
            &made_up_article("Ấn Độ", 13, "Giridhar Aramane"),
            Some("https://example.vn/new-dialogue"),
        ))
        .await
        .expect("submit new");
    let live = take_events(&mut resumed, 1).await;
    assert_eq!(live[0].sequence, total as u64 + 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubmitting_returns_the_same_id_and_creates_nothing() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(data_dir.path(), 2).await;
    let mut articles = server.articles().await;
    let url = "https://example.vn/doi-thoai-an-do";
    let article = made_up_article("Ấn Độ", 13, "Giridhar Aramane");
    let first = articles
        .submit_article(text_request(&article, Some(url)))
        .await
        .expect("submit")
        .into_inner();
    assert!(first.created);
    let settled = wait_until_settled(&mut articles, &first.article_id).await;
    assert_eq!(settled.state(), proto::ArticleState::Done);

    let same_url = articles
        .submit_article(text_request("Một văn bản khác hẳn.", Some(url)))
        .await
        .expect("same url")
        .into_inner();
    let reformatted = article.replace(' ', "  ").replace('\n', "\n\n");
    let same_text = articles
        .submit_article(text_request(&reformatted, Some("https://other.vn/x")))
        .await
        .expect("same text")
        .into_inner();
    for duplicate in [&same_url, &same_text] {
        assert_eq!(duplicate.article_id, first.article_id);
        assert!(!duplicate.created);
    }

    let mut dialogues = server.dialogues().await;
    let listed = dialogues
        .list_dialogues(proto::ListDialoguesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.dialogues.len(), 1);
    assert_eq!(listed.dialogues[0].revision, 1);
    let mut feed = dialogues
        .watch_dialogues(proto::WatchDialoguesRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let events = take_events(&mut feed, 1).await;
    assert_eq!(events[0].sequence, 1);
    // Nothing else was queued: a fresh article gets the next sequence, 2.
    articles
        .submit_article(text_request(
            &made_up_article("Ô-xtrây-li-a", 5, "Greg Moriarty"),
            None,
        ))
        .await
        .expect("submit other");
    let next = take_events(&mut feed, 1).await;
    assert_eq!(next[0].sequence, 2);
    server.stop().await;
}
