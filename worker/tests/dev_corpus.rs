//! The extractor against every hand-made answer in `../shared/corpus/dev`:
//! each field that `shared/tools/score.py` scores must match, and every
//! evidence span must index the cleaned text exactly.

use dialogwatch_worker::record::{DialogueEvent, Role};
use dialogwatch_worker::{ArticleInput, Extractor, PartialDate};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/dev")
}

fn gold_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("the dev corpus sits beside the repository")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(".gold.json"))
        .collect();
    files.sort();
    files
}

/// NFC, case-folded, whitespace-collapsed (as score.py compares names).
fn norm(text: &str) -> String {
    dialogwatch_worker::normalize::normalize(text)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// score.py's name match: equal, or one is a run of ≥ 2 whole words of the other.
fn same_person(left: &str, right: &str) -> bool {
    let tokens = |name: &str| {
        name.replace('-', " ")
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (left, right) = (tokens(left), tokens(right));
    let (short, long) = if left.len() <= right.len() {
        (left, right)
    } else {
        (right, left)
    };
    short == long
        || (short.len() >= 2
            && long
                .windows(short.len())
                .any(|window| window == short.as_slice()))
}

fn string_set(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn check_event(file: &str, gold: &Value, event: &DialogueEvent, problems: &mut Vec<String>) {
    let mut expect = |field: &str, wanted: String, got: String| {
        if wanted != got {
            problems.push(format!("{file}: {field}: wanted {wanted}, got {got}"));
        }
    };
    expect(
        "kind",
        gold["kind"].as_str().unwrap_or_default().to_string(),
        event.kind.as_str().to_string(),
    );
    expect(
        "partner",
        gold["partner"].as_str().unwrap_or_default().to_string(),
        event.partner.code.clone(),
    );
    expect(
        "edition",
        format!("{:?}", gold["edition"].as_u64()),
        format!("{:?}", event.edition.map(u64::from)),
    );
    if let Some(date) = gold["date"].as_str() {
        expect(
            "date",
            date.to_string(),
            event
                .date
                .map(|date: PartialDate| date.to_string())
                .unwrap_or_default(),
        );
    }
    if let Some(country) = gold["location"]["country"].as_str() {
        expect(
            "location.country",
            country.to_string(),
            event.location.country.clone().unwrap_or_default(),
        );
    }
    if let Some(city) = gold["location"]["city"].as_str() {
        expect(
            "location.city",
            norm(city),
            norm(event.location.city.as_deref().unwrap_or_default()),
        );
    }
    if gold.get("relationship").is_some() {
        expect(
            "relationship",
            format!("{:?}", gold["relationship"].as_str()),
            format!("{:?}", event.relationship.map(|level| level.as_str())),
        );
    }
    let gold_people = gold["participants"].as_array().cloned().unwrap_or_default();
    expect(
        "participants.count",
        gold_people.len().to_string(),
        event.participants.len().to_string(),
    );
    for person in &gold_people {
        let name = person["name"].as_str().unwrap_or_default();
        let Some(found) = event
            .participants
            .iter()
            .find(|candidate| same_person(&norm(name), &norm(&candidate.name)))
        else {
            expect("participant", name.to_string(), "missing".to_string());
            continue;
        };
        expect(
            &format!("{name}.rank"),
            format!("{:?}", person["rank"].as_str()),
            format!("{:?}", found.rank.as_deref()),
        );
        expect(
            &format!("{name}.side"),
            person["side"].as_str().unwrap_or_default().to_string(),
            found.side.clone(),
        );
        let role = if found.role == Role::CoChair {
            "co_chair"
        } else {
            "participant"
        };
        expect(
            &format!("{name}.role"),
            person["role"].as_str().unwrap_or_default().to_string(),
            role.to_string(),
        );
    }
    let signed = |documents: Vec<String>| documents.into_iter().collect::<BTreeSet<_>>();
    let gold_signed = signed(
        gold["documents"]
            .as_array()
            .map(|documents| {
                documents
                    .iter()
                    .filter(|document| document["signed_at_event"].as_bool() == Some(true))
                    .filter_map(|document| document["type"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    );
    let got_signed = signed(
        event
            .documents
            .iter()
            .filter(|document| document.signed_at_event)
            .map(|document| document.document_type.as_str().to_string())
            .collect(),
    );
    expect(
        "documents.signed",
        format!("{gold_signed:?}"),
        format!("{got_signed:?}"),
    );
    let areas: BTreeSet<String> = event
        .areas
        .iter()
        .map(|area| area.as_str().to_string())
        .collect();
    expect(
        "areas",
        format!("{:?}", string_set(&gold["areas"])),
        format!("{areas:?}"),
    );
    let topics: BTreeSet<String> = event
        .topics
        .iter()
        .map(|topic| topic.as_str().to_string())
        .collect();
    expect(
        "topics",
        format!("{:?}", string_set(&gold["topics"])),
        format!("{topics:?}"),
    );
}

#[test]
fn every_dev_answer_is_reproduced() {
    let extractor = Extractor::new();
    let mut problems = Vec::new();
    let files = gold_files();
    assert!(files.len() >= 5, "the dev corpus has its five answers");
    for gold_path in files {
        let gold: Value =
            serde_json::from_str(&std::fs::read_to_string(&gold_path).expect("read gold"))
                .expect("parse gold");
        let file = gold["file"].as_str().unwrap_or_default().to_string();
        let text = std::fs::read_to_string(corpus_dir().join(&file)).expect("read article");
        let published_at = gold["published_at"]
            .as_str()
            .and_then(|date| date.parse().ok());
        let extraction = extractor.extract(&ArticleInput {
            text: &text,
            published_at,
            ..ArticleInput::default()
        });
        let gold_is_dialogue = gold["is_dialogue"].as_bool().unwrap_or(false);
        if extraction.is_dialogue != gold_is_dialogue {
            problems.push(format!("{file}: is_dialogue: wanted {gold_is_dialogue}"));
            continue;
        }
        let gold_events = gold["events"].as_array().cloned().unwrap_or_default();
        if extraction.events.len() != gold_events.len() {
            problems.push(format!(
                "{file}: {} events, wanted {}",
                extraction.events.len(),
                gold_events.len()
            ));
        }
        for (gold_event, event) in gold_events.iter().zip(&extraction.events) {
            check_event(&file, gold_event, event, &mut problems);
        }
        if let Some(url) = gold["url"].as_str() {
            if extraction.source_url.as_deref() != Some(url) {
                problems.push(format!(
                    "{file}: source url: wanted {url}, got {:?}",
                    extraction.source_url
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "differences from the dev answers:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_evidence_span_indexes_the_cleaned_text() {
    let extractor = Extractor::new();
    for gold_path in gold_files() {
        let article = gold_path.to_string_lossy().replace(".gold.json", ".txt");
        let text = std::fs::read_to_string(&article).expect("read article");
        let explanation = extractor.explain(&ArticleInput {
            text: &text,
            ..ArticleInput::default()
        });
        let characters: Vec<char> = explanation.cleaned.text.chars().collect();
        for event in &explanation.extraction.events {
            let fields: BTreeSet<&str> = event
                .evidence
                .iter()
                .map(|evidence| evidence.field.split(['.', '[']).next().unwrap_or_default())
                .collect();
            for needed in ["kind", "partner", "participants"] {
                assert!(
                    fields.contains(needed),
                    "{article}: no evidence for {needed}"
                );
            }
            for evidence in &event.evidence {
                let span: String = characters
                    .get(evidence.start..evidence.end)
                    .map(|chars| chars.iter().collect())
                    .unwrap_or_default();
                assert_eq!(span, evidence.text, "{article}: {}", evidence.field);
            }
        }
    }
}
