//! `dialogwatch explain`: the cleaned text with each field's evidence marked.

use super::Explanation;

/// The cleaned text with every evidence span wrapped in `⟦…⟧ⁿ`, followed by
/// numbered notes `n. field = value` per event.
pub fn render_explanation(explanation: &Explanation) -> String {
    let text = &explanation.cleaned.text;
    let characters: Vec<char> = text.chars().collect();
    // (char offset, is_start, note number)
    let mut marks: Vec<(usize, bool, usize)> = Vec::new();
    let mut notes = Vec::new();
    for (event_index, event) in explanation.extraction.events.iter().enumerate() {
        let label = if event.primary {
            "primary"
        } else {
            "secondary"
        };
        notes.push(format!(
            "event {event_index} ({label}): {} with {} ({})",
            event.kind, event.partner.name_vi, event.partner.code
        ));
        for evidence in &event.evidence {
            let number = notes.len();
            notes.push(format!(
                "  [{number}] {} ← “{}”",
                evidence.field, evidence.text
            ));
            if evidence.start < evidence.end && evidence.end <= characters.len() {
                marks.push((evidence.start, true, number));
                marks.push((evidence.end, false, number));
            }
        }
    }
    marks.sort_by_key(|(offset, is_start, number)| (*offset, *is_start, *number));
    let mut output = String::with_capacity(text.len() + marks.len() * 6);
    let mut mark_index = 0;
    for (offset, character) in characters.iter().enumerate() {
        while let Some((at, is_start, number)) = marks.get(mark_index) {
            if *at != offset {
                break;
            }
            if *is_start {
                output.push('⟦');
            } else {
                output.push_str(&format!("⟧{number}"));
            }
            mark_index += 1;
        }
        output.push(*character);
    }
    for (_, is_start, number) in &marks[mark_index..] {
        if !is_start {
            output.push_str(&format!("⟧{number}"));
        }
    }
    output.push_str("\n\n");
    if notes.is_empty() {
        let reason = explanation
            .extraction
            .reason
            .as_deref()
            .unwrap_or("no event");
        output.push_str(&format!("not a dialogue: {reason}\n"));
    }
    for note in notes {
        output.push_str(&note);
        output.push('\n');
    }
    output
}
