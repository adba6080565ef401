//! A client's selectors for a new note, checked against the passage they name.

use super::{Anchor, anchor_in};
use crate::store::books::PassageRow;

/// What a client sends to anchor a note: a range in code points (TextPositionSelector) and
/// the quote, with the context it chose to send (TextQuoteSelector).
pub struct Selectors<'a> {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub exact: Option<&'a str>,
    pub prefix: Option<&'a str>,
    pub suffix: Option<&'a str>,
}

/// Why selectors do not fit their passage, in words a client can act on.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    #[error("start and end are required")]
    MissingRange,
    #[error(
        "the range {start}..{end} must satisfy 0 <= start < end <= {length} (the passage's length in code points)"
    )]
    OutOfRange { start: i64, end: i64, length: i64 },
    #[error("exact must be the passage text from {start} to {end}: {exact:?}")]
    WrongExact { start: i64, end: i64, exact: String },
    #[error("prefix must be the text before the quote: {0:?}")]
    WrongPrefix(String),
    #[error("suffix must be the text after the quote: {0:?}")]
    WrongSuffix(String),
}

/// Checks the range against the passage's normalized text (offsets in code points, as the
/// W3C TextPositionSelector counts) and derives prefix, suffix and a CFI.
pub fn validate(passage: PassageRow, selectors: &Selectors) -> Result<Anchor, AnchorError> {
    let length = passage.text.chars().count() as i64;
    let (start, end) = match (selectors.start, selectors.end) {
        (Some(start), Some(end)) => (start, end),
        _ => return Err(AnchorError::MissingRange),
    };
    if !(0 <= start && start < end && end <= length) {
        return Err(AnchorError::OutOfRange { start, end, length });
    }
    let anchor = anchor_in(passage, start, end);
    if selectors.exact != Some(anchor.exact.as_str()) {
        return Err(AnchorError::WrongExact {
            start,
            end,
            exact: anchor.exact,
        });
    }
    // A client's context must agree with the text (it may send less of it, not other text).
    if selectors
        .prefix
        .is_some_and(|p| !anchor.prefix.ends_with(p))
    {
        return Err(AnchorError::WrongPrefix(anchor.prefix));
    }
    if selectors
        .suffix
        .is_some_and(|s| !anchor.suffix.starts_with(s))
    {
        return Err(AnchorError::WrongSuffix(anchor.suffix));
    }
    Ok(anchor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anchor::tests::passage;

    const TEXT: &str = "Alice was beginning to get very tired 🐇 of sitting by her sister";

    /// Code points `start..end` of `TEXT`.
    fn text(start: i64, end: i64) -> String {
        TEXT.chars()
            .skip(start as usize)
            .take((end - start) as usize)
            .collect()
    }

    /// The range `start..end` quoting `exact`, without context.
    fn range(start: i64, end: i64, exact: &str) -> Selectors<'_> {
        Selectors {
            start: Some(start),
            end: Some(end),
            exact: Some(exact),
            prefix: None,
            suffix: None,
        }
    }

    #[test]
    fn the_quote_of_the_range_is_accepted() {
        let exact = text(32, 42);
        let anchor = validate(passage(TEXT), &range(32, 42, &exact)).unwrap();
        assert_eq!(anchor.exact, "tired 🐇 of");
        assert_eq!(anchor.prefix, "Alice was beginning to get very ");
        assert_eq!(anchor.suffix, " sitting by her sister");
        assert_eq!(anchor.cfi, "epubcfi(/6/4[ch1]!/4/2[p3],/1:32,/1:42)");
    }

    #[test]
    fn a_range_needs_both_ends() {
        for (start, end) in [(None, Some(3)), (Some(0), None), (None, None)] {
            let selectors = Selectors {
                start,
                end,
                ..range(0, 3, "Ali")
            };
            assert_eq!(
                validate(passage(TEXT), &selectors).unwrap_err(),
                AnchorError::MissingRange
            );
        }
    }

    #[test]
    fn a_range_must_be_non_empty_and_inside_the_passage() {
        let length = TEXT.chars().count() as i64;
        for (start, end) in [(-1, 3), (5, 5), (6, 5), (0, length + 1)] {
            let selectors = Selectors {
                start: Some(start),
                end: Some(end),
                ..range(0, 3, "Ali")
            };
            let err = validate(passage(TEXT), &selectors).unwrap_err();
            assert_eq!(err, AnchorError::OutOfRange { start, end, length });
            assert_eq!(
                err.to_string(),
                format!(
                    "the range {start}..{end} must satisfy 0 <= start < end <= {length} \
                     (the passage's length in code points)"
                )
            );
        }
        assert!(validate(passage(TEXT), &range(0, length, TEXT)).is_ok());
    }

    #[test]
    fn exact_must_be_the_text_of_the_range() {
        for exact in [None, Some("Alic"), Some("alice")] {
            let selectors = Selectors {
                exact,
                ..range(0, 5, "Alice")
            };
            let err = validate(passage(TEXT), &selectors).unwrap_err();
            assert_eq!(
                err.to_string(),
                "exact must be the passage text from 0 to 5: \"Alice\""
            );
        }
    }

    #[test]
    fn context_may_be_shorter_but_not_other_text() {
        let exact = text(32, 42);
        let shorter = Selectors {
            prefix: Some("very "),
            suffix: Some(" sitting"),
            ..range(32, 42, &exact)
        };
        assert!(validate(passage(TEXT), &shorter).is_ok());

        let other_prefix = Selectors {
            prefix: Some("quite "),
            ..range(32, 42, &exact)
        };
        assert_eq!(
            validate(passage(TEXT), &other_prefix).unwrap_err(),
            AnchorError::WrongPrefix("Alice was beginning to get very ".to_owned())
        );
        let other_suffix = Selectors {
            suffix: Some(" standing"),
            ..range(32, 42, &exact)
        };
        assert_eq!(
            validate(passage(TEXT), &other_suffix).unwrap_err(),
            AnchorError::WrongSuffix(" sitting by her sister".to_owned())
        );
    }
}
