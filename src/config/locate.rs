//! Maps between byte offsets, key paths and line:column in TOML text, so that every config
//! error can name the key and point at where it is written.

use toml_edit::{Document, Item, TableLike};

/// 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The dotted key path (`["algo", "gamma"]`) of the deepest key, value or table header of
/// `doc` that contains byte `offset`; empty when none does.
pub fn path_at(doc: &Document<String>, offset: usize) -> Vec<String> {
    let mut path = Vec::new();
    walk(doc.as_table(), offset, &mut path);
    path
}

fn walk(table: &dyn TableLike, offset: usize, path: &mut Vec<String>) -> bool {
    let contains = |span: Option<std::ops::Range<usize>>| span.is_some_and(|s| s.contains(&offset));
    for (name, _) in table.iter() {
        let Some((key, item)) = table.get_key_value(name) else {
            continue;
        };
        path.push(name.to_string());
        if let Some(inner) = item.as_table_like()
            && walk(inner, offset, path)
        {
            return true;
        }
        if contains(key.span()) || contains(item.span()) {
            return true;
        }
        path.pop();
    }
    false
}

/// Line and column where `path` is written in `doc` (its key, or the nearest written parent).
pub fn position_of(doc: &Document<String>, path: &[String]) -> Option<(usize, usize)> {
    let mut table: &dyn TableLike = doc.as_table();
    let mut found = None;
    for name in path {
        let Some((key, item)) = table.get_key_value(name) else {
            break;
        };
        let span = key.span().or_else(|| item.span());
        if let Some(span) = span {
            found = Some(span.start);
        }
        match item {
            Item::Table(t) => table = t,
            Item::Value(v) if v.as_inline_table().is_some() => {
                table = v.as_inline_table().expect("checked above")
            }
            _ => break,
        }
    }
    found.map(|offset| line_col(doc.raw(), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[experiment]\nname = \"x\"\n\n[algo]\ngamma = 1.5\nlr.inner = 2\n";

    #[test]
    fn offsets_paths_and_positions() {
        let doc = Document::parse(TEXT.to_string()).unwrap();
        let gamma = TEXT.find("1.5").unwrap();
        assert_eq!(path_at(&doc, gamma), ["algo", "gamma"]);
        assert_eq!(
            path_at(&doc, TEXT.find("inner").unwrap()),
            ["algo", "lr", "inner"]
        );
        assert_eq!(line_col(TEXT, gamma), (5, 9));
        let path = ["algo".to_string(), "gamma".to_string()];
        assert_eq!(position_of(&doc, &path), Some((5, 1)));
        let missing = ["algo".to_string(), "nope".to_string()];
        assert_eq!(position_of(&doc, &missing), Some((4, 2)));
    }
}
