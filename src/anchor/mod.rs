//! Where a note points: a passage, a range of its normalized text in code points (the W3C
//! TextPositionSelector), the quote with a little context either side (TextQuoteSelector) and
//! a CFI for the range. The quote is what lets a note be found again when offsets move.

mod cfi;
mod validate;

pub use validate::{AnchorError, Selectors, validate};

use crate::store::books::PassageRow;

/// Characters of context kept on each side of a quote, for re-anchoring.
const CONTEXT_CHARS: usize = 32;

/// Where a note sits: validated against the passage's normalized text.
#[derive(Clone, Debug)]
pub struct Anchor {
    pub passage_id: String,
    pub chapter: i64,
    pub ordinal: i64,
    pub start: i64,
    pub end: i64,
    pub exact: String,
    pub prefix: String,
    pub suffix: String,
    pub cfi: String,
}

/// The anchor of code points `start..end` of the passage's text, a range the caller has
/// checked: the quote, a little context either side, and a CFI.
pub fn anchor_in(passage: PassageRow, start: i64, end: i64) -> Anchor {
    let chars: Vec<char> = passage.text.chars().collect();
    let length = chars.len() as i64;
    let slice = |from: i64, to: i64| chars[from as usize..to as usize].iter().collect::<String>();
    Anchor {
        cfi: cfi::range_cfi(&passage.cfi, start, end),
        exact: slice(start, end),
        prefix: slice((start - CONTEXT_CHARS as i64).max(0), start),
        suffix: slice(end, (end + CONTEXT_CHARS as i64).min(length)),
        passage_id: passage.id,
        chapter: passage.chapter,
        ordinal: passage.ordinal,
        start,
        end,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A passage of the first chapter with `text`, as the store gives it back.
    pub(crate) fn passage(text: &str) -> PassageRow {
        PassageRow {
            id: "c1p3".to_owned(),
            chapter: 1,
            ordinal: 3,
            cfi: "epubcfi(/6/4[ch1]!/4/2[p3])".to_owned(),
            text: text.to_owned(),
            fingerprint: String::new(),
        }
    }

    #[test]
    fn offsets_count_code_points_not_bytes() {
        let anchor = anchor_in(passage("Ça va, 猫が好き 🐈 oui"), 7, 13);
        assert_eq!(anchor.exact, "猫が好き 🐈");
        assert_eq!(anchor.prefix, "Ça va, ");
        assert_eq!(anchor.suffix, " oui");
        assert_eq!(anchor.cfi, "epubcfi(/6/4[ch1]!/4/2[p3],/1:7,/1:13)");
        assert_eq!(
            (anchor.passage_id.as_str(), anchor.chapter, anchor.ordinal),
            ("c1p3", 1, 3)
        );
        assert_eq!((anchor.start, anchor.end), (7, 13));
    }

    #[test]
    fn context_is_at_most_context_chars_either_side() {
        let text = format!("{}QUOTE{}", "a".repeat(40), "z".repeat(40));
        let anchor = anchor_in(passage(&text), 40, 45);
        assert_eq!(anchor.exact, "QUOTE");
        assert_eq!(anchor.prefix, "a".repeat(CONTEXT_CHARS));
        assert_eq!(anchor.suffix, "z".repeat(CONTEXT_CHARS));
    }

    #[test]
    fn a_quote_of_the_whole_passage_has_no_context() {
        let anchor = anchor_in(passage("Down the Rabbit-Hole"), 0, 20);
        assert_eq!(anchor.exact, "Down the Rabbit-Hole");
        assert_eq!(anchor.prefix, "");
        assert_eq!(anchor.suffix, "");
    }
}
