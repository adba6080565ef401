//! EPUB CFIs (https://idpf.org/epub/linking/cfi/) for passages.

/// One step of a CFI path: the even index of an element among its parent's element children
/// (`2 * (position + 1)`), and the element's id, which the CFI asserts.
#[derive(Debug, Clone)]
pub struct Step {
    pub index: usize,
    pub id: Option<String>,
}

/// `epubcfi(/6/N[idref]!/4/...)`: `/6` is the package's spine, `N` the itemref, then the path
/// from the content document's root element down to the passage element.
pub fn passage_cfi(spine_index: usize, idref: &str, path: &[Step]) -> String {
    let mut cfi = format!("epubcfi(/6/{}[{}]!", 2 * (spine_index + 1), escape(idref));
    for step in path {
        cfi.push('/');
        cfi.push_str(&step.index.to_string());
        if let Some(id) = &step.id {
            cfi.push('[');
            cfi.push_str(&escape(id));
            cfi.push(']');
        }
    }
    cfi.push(')');
    cfi
}

/// CFI syntax characters inside an assertion are escaped with `^`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '^' | '[' | ']' | '(' | ')' | ',' | ';' | '=') {
            out.push('^');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_steps_and_escapes_assertions() {
        let path = [
            Step { index: 4, id: None },
            Step {
                index: 2,
                id: Some("a[1]".into()),
            },
        ];
        assert_eq!(
            passage_cfi(2, "ch3", &path),
            "epubcfi(/6/6[ch3]!/4/2[a^[1^]])"
        );
    }
}
