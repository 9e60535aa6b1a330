//! No input may crash the parser: arbitrary text, and built-in scenarios with random
//! damage (cut, spliced, numbers blown up), either parse or give diagnostics with spans
//! that lie inside the file; and what parses compiles into an analytic twin.

use proptest::prelude::*;
use scenarios::{Overrides, Source, builtin};

fn check(text: String) -> Result<(), TestCaseError> {
    let source = Source { origin: "fuzz.toml".into(), text };
    match scenarios::parse(&source, &Overrides::default()) {
        Ok(s) => {
            prop_assert!(!s.model.classes.is_empty());
            // Whatever validates also compiles into an analytic twin, whose refusals say what and why.
            let twin = sim_core::theory::Twin::compile(&s.model);
            prop_assert!(twin.refusals.iter().all(|r| !r.part.is_empty() && !r.why.is_empty()));
            prop_assert_eq!(twin.classes.len(), s.model.classes.len());
        }
        Err(d) => {
            prop_assert!(!d.items.is_empty());
            for item in &d.items {
                if let Some(span) = &item.span {
                    prop_assert!(span.start <= source.text.len(), "span {span:?} outside the file");
                }
            }
            // Rendering must not panic either, whatever the spans and characters.
            prop_assert!(d.to_string().contains("error: "));
        }
    }
    Ok(())
}

fn damaged() -> impl Strategy<Value = String> {
    let texts: Vec<&'static str> = builtin::BUILTIN.iter().map(|(_, t)| *t).collect();
    (prop::sample::select(texts), any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..6, "[ -~\n]{0,12}")
        .prop_map(|(text, a, b, how, junk)| {
            let len = text.len();
            let (i, j) = (a.index(len), b.index(len));
            let (lo, hi) = (i.min(j), i.max(j));
            let at = |k: usize| (0..=k).rev().find(|&c| text.is_char_boundary(c)).unwrap_or(0);
            let (lo, hi) = (at(lo), at(hi));
            match how {
                0 => text[..lo].to_string(),
                1 => format!("{}{}", &text[..lo], &text[hi..]),
                2 => format!("{}{junk}{}", &text[..lo], &text[lo..]),
                3 => text.replacen("10_000_000", "1e300", 1).replacen("1_000_000", &junk, 1),
                4 => text.replace("exp(rate = service_rate)", &format!("exp(rate = {junk})")),
                _ => format!("{}\n{junk}", text),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        check(text)?;
    }

    #[test]
    fn damaged_builtins_never_panic(text in damaged()) {
        check(text)?;
    }
}

#[test]
fn every_builtin_parses_cleanly() {
    for (name, text) in builtin::BUILTIN {
        let source = Source { origin: format!("builtin:{name}"), text: text.to_string() };
        let s = scenarios::parse(&source, &Overrides::default()).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(s.name, name, "a built-in's `name` matches its registry name");
        assert!(!s.title.is_empty() && !s.lesson.is_empty() && !s.watch.is_empty(), "{name} explains itself");
    }
}
