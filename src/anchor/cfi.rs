//! The EPUB CFI (https://idpf.org/epub/linking/cfi/) of a range inside a passage.

/// Offsets count the passage's normalized text; the CFI names the passage element (its CFI
/// from the importer) and the range within its text.
pub fn range_cfi(passage_cfi: &str, start: i64, end: i64) -> String {
    let element = passage_cfi
        .trim_start_matches("epubcfi(")
        .trim_end_matches(')');
    format!("epubcfi({element},/1:{start},/1:{end})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_extends_the_passage_path() {
        assert_eq!(
            range_cfi("epubcfi(/6/6[ch3]!/4/2[a^[1^]])", 0, 12),
            "epubcfi(/6/6[ch3]!/4/2[a^[1^]],/1:0,/1:12)"
        );
    }
}
