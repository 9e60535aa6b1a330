//! Component stories as data: each file under `tests/stories/` is a scenario that states
//! what it proves in its comment and its `expect` lines, the figures it must show. A new
//! story is a new file; this test runs every one through the CLI.

mod common;

#[test]
fn every_story_shows_the_figures_it_expects() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stories");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 3, "the stories are there");
    for file in files {
        let path = file.to_str().unwrap();
        let report = common::report(path, &[]);
        let verdicts = report["expectations"].as_array().unwrap_or_else(|| panic!("{path}: no expectations"));
        assert!(verdicts.len() >= 2, "{path}: a story expects figures");
        for v in verdicts {
            assert_eq!(v["passed"], true, "{path}: {} (actual {})", v["expr"], v["actual"]);
        }
    }
}
