//! Errors about user input, rendered the way compilers do: what is wrong, where (file,
//! line, column, with the line quoted and the spot underlined) and how to fix it.

use std::fmt;
use std::ops::Range;

/// One problem found in a scenario file or a command-line override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub help: Option<String>,
    /// Byte range in the source, when the problem has a place in the file.
    pub span: Option<Range<usize>>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Diagnostic {
        Diagnostic { message: message.into(), help: None, span: None }
    }

    pub fn at(message: impl Into<String>, span: Range<usize>) -> Diagnostic {
        Diagnostic { message: message.into(), help: None, span: Some(span) }
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// All the problems found in one source, with what is needed to show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file's path as the user gave it, or `builtin:NAME`.
    pub origin: String,
    pub source: String,
    pub items: Vec<Diagnostic>,
}

impl std::error::Error for Diagnostics {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Diagnostics {
    /// The items as `label: MESSAGE` blocks (`warning`), located like errors.
    pub fn render(&self, label: &str) -> String {
        struct As<'a>(&'a Diagnostics, &'a str);
        impl fmt::Display for As<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, self.1)
            }
        }
        As(self, label).to_string()
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        for (n, d) in self.items.iter().enumerate() {
            let mut gutter = 1;
            if n > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{label}: {}", d.message)?;
            match &d.span {
                Some(span) => {
                    let (line, col) = line_col(&self.source, span.start);
                    writeln!(f, "  --> {}:{line}:{col}", self.origin)?;
                    let text = self.source.lines().nth(line - 1).unwrap_or("");
                    let width = line.to_string().len();
                    gutter = width;
                    let end = span.end.max(span.start + 1).min(span.start + text.len().max(1));
                    let marks = self
                        .source
                        .get(span.start..end)
                        .map_or(1, |s| s.lines().next().map_or(1, |l| l.chars().count().max(1)));
                    writeln!(f, "{:width$} |", "")?;
                    writeln!(f, "{line} | {text}")?;
                    writeln!(f, "{:width$} | {}{}", "", " ".repeat(col - 1), "^".repeat(marks))?;
                }
                None => writeln!(f, "  --> {}", self.origin)?,
            }
            if let Some(help) = &d.help {
                writeln!(f, "{:gutter$} = help: {help}", "")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "error")
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1) + 1;
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let src = "a = 1\nbb = \"x\"\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 11), (2, 6));
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(did_you_mean("web-1", ["web1", "db"]), Some("web1"));
        assert_eq!(did_you_mean("workrs", ["workers", "service"]), Some("workers"));
        assert_eq!(did_you_mean("database", ["web1", "cache"]), None);
    }

    #[test]
    fn rendering_quotes_the_line_and_underlines_the_span() {
        let d = Diagnostics {
            origin: "x.toml".into(),
            source: "path = [\"web-1\"]\n".into(),
            items: vec![Diagnostic::at("unknown component `web-1`", 8..15).help("did you mean `web1`?")],
        };
        let text = d.to_string();
        assert!(text.contains("  --> x.toml:1:9\n"), "{text}");
        assert!(text.contains("1 | path = [\"web-1\"]\n  |         ^^^^^^^\n"), "{text}");
        assert!(text.contains("\n  = help: did you mean `web1`?"), "{text}");
    }
}
