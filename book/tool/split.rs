//! Where a new file, or a long run of added lines in a hunk, is cut into
//! pieces that a chapter can narrate one at a time.
//!
//! The rule, for Rust and TOML alike:
//!
//! 1. A piece starts at each top-level item: a line at column 0 (not a
//!    closing bracket) right after a blank line. Doc comments and attributes
//!    have no blank line before their item, so they stay with it.
//! 2. Except the file's preamble: a block of `use`, `mod` and `#![...]`
//!    lines right after another such block joins it, so a file's imports
//!    are one piece.
//! 3. A piece longer than [`LONG`] lines is cut again at the items inside
//!    it: a line indented by four spaces that starts an item (`fn`, `///`,
//!    `#[`, `pub`, ...) right after a blank line. An `impl` block is then
//!    shown method by method.
//!
//! In a hunk, a piece may only start between two added lines, so every piece
//! is itself a valid hunk.

/// A piece longer than this is cut again at the items inside it.
pub const LONG: usize = 40;

/// One line, as the splitter sees it.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    /// The line's text, without its newline (and, in a hunk, without the
    /// `+`, `-` or space in front).
    pub text: &'a str,
    /// Whether a piece may start at this line. In a hunk: this line and the
    /// one before are both added lines. In a new file: always.
    pub may_start: bool,
    /// Whether the line is a removed line of a hunk, which the new file does
    /// not have: it is skipped when looking at the blocks around a line.
    pub removed: bool,
}

impl<'a> Line<'a> {
    /// Every line of a new file: a piece may start anywhere.
    pub fn of_file(text: &'a str) -> Vec<Line<'a>> {
        text.lines()
            .map(|text| Line {
                text,
                may_start: true,
                removed: false,
            })
            .collect()
    }
}

/// The index of the first line of each piece: always 0, then one index per
/// cut.
pub fn piece_starts(lines: &[Line]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend((1..lines.len()).filter(|&i| starts_top_level_piece(lines, i)));
    let mut all = Vec::with_capacity(starts.len());
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(lines.len());
        all.push(start);
        if end - start > LONG {
            all.extend((start + 1..end).filter(|&i| starts_inner_piece(lines, i)));
        }
    }
    all
}

/// Rules 1 and 2: a top-level item right after a blank line, unless it
/// continues the preamble.
fn starts_top_level_piece(lines: &[Line], i: usize) -> bool {
    let line = lines[i];
    line.may_start
        && is_blank(lines[i - 1].text)
        && is_top_level_item(line.text)
        && !(is_preamble(line.text) && block_before_is_preamble(lines, i))
}

/// Rule 3: an item four spaces in, right after a blank line.
fn starts_inner_piece(lines: &[Line], i: usize) -> bool {
    lines[i].may_start && is_blank(lines[i - 1].text) && is_inner_item(lines[i].text)
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A line at column 0 that is not a closing bracket.
fn is_top_level_item(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| !c.is_whitespace() && !matches!(c, '}' | ')' | ']'))
}

/// A line four spaces in that starts an item or its doc comment.
fn is_inner_item(text: &str) -> bool {
    const STARTS: &[&str] = &[
        "///", "#[", "fn ", "pub ", "pub(", "async ", "const ", "unsafe ", "type ", "impl ",
        "struct ", "enum ", "static ", "mod ", "use ",
    ];
    text.strip_prefix("    ")
        .is_some_and(|rest| STARTS.iter().any(|start| rest.starts_with(start)))
}

/// `use ...;`, `mod ...;` (public or not), `extern crate ...;` or `#![...]`.
fn is_preamble(text: &str) -> bool {
    let text = text.trim_end();
    if text.starts_with("#![") {
        return true;
    }
    let item = ["pub(crate) ", "pub(super) ", "pub "]
        .iter()
        .find_map(|vis| text.strip_prefix(vis))
        .unwrap_or(text);
    ["use ", "mod ", "extern crate "]
        .iter()
        .any(|keyword| item.starts_with(keyword))
        && text.ends_with(';')
}

/// Whether the lines between the blank line before `i` and the blank line
/// before that are all preamble (removed lines skipped).
fn block_before_is_preamble(lines: &[Line], i: usize) -> bool {
    let mut block = lines[..i - 1]
        .iter()
        .rev()
        .filter(|line| !line.removed)
        .take_while(|line| !is_blank(line.text))
        .peekable();
    block.peek().is_some() && block.all(|line| is_preamble(line.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<Vec<&str>> {
        let lines = Line::of_file(text);
        let starts = piece_starts(&lines);
        starts
            .iter()
            .enumerate()
            .map(|(n, &start)| {
                let end = starts.get(n + 1).copied().unwrap_or(lines.len());
                lines[start..end].iter().map(|line| line.text).collect()
            })
            .collect()
    }

    #[test]
    fn items_are_cut_at_blank_lines_with_their_doc_comments() {
        let text = "//! Module.\n\n/// A.\nfn a() {\n\n    x();\n}\n\n/// B.\n#[derive(Debug)]\nstruct B;\n";
        assert_eq!(
            pieces(text),
            [
                vec!["//! Module.", ""],
                vec!["/// A.", "fn a() {", "", "    x();", "}", ""],
                vec!["/// B.", "#[derive(Debug)]", "struct B;"],
            ]
        );
    }

    #[test]
    fn the_preamble_is_one_piece() {
        let text = "//! Doc.\n\n#![forbid(unsafe_code)]\n\nmod a;\n\nuse std::fmt;\n\npub use a::b;\n\nfn f() {}\n";
        let got = pieces(text);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1].first(), Some(&"#![forbid(unsafe_code)]"));
        assert_eq!(got[2], ["fn f() {}"]);
    }

    #[test]
    fn a_long_impl_is_cut_between_its_methods() {
        let mut text = String::from("impl A {\n");
        for name in ["one", "two"] {
            text.push_str(&format!("    /// {name}\n    fn {name}() {{\n"));
            for _ in 0..LONG / 2 {
                text.push_str("        x();\n");
            }
            text.push_str("    }\n\n");
        }
        text.push_str("}\n");
        let got = pieces(&text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0][..2], ["impl A {", "    /// one"]);
        assert_eq!(got[1][0], "    /// two");
        assert_eq!(got[1].last(), Some(&"}"));
    }

    #[test]
    fn a_hunk_is_cut_only_between_added_lines() {
        let texts = ["fn a() {}", "", "fn b() {}", "", "fn c() {}"];
        // The blank line before `fn b` is context, the one before `fn c` added.
        let may_start = [false, false, false, true, true];
        let lines: Vec<Line> = texts
            .iter()
            .zip(may_start)
            .map(|(&text, may_start)| Line {
                text,
                may_start,
                removed: false,
            })
            .collect();
        assert_eq!(piece_starts(&lines), [0, 4]);
    }
}
