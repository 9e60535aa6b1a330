//! Issue #19, scale-out: `--shard` slices of chaos, sweep and compare merge into exactly
//! what one machine prints, through real GNU parallel, the Slurm script run under a fake
//! Slurm environment and the Kubernetes manifests' own commands under a fake Indexed Job;
//! the manifests are valid Indexed Jobs; bad merges are refused with a clear message.

mod common;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The variables `--shard auto` reads: cleared for every child, so that a test run inside a
/// real Slurm job or Kubernetes pod is not read as one.
const ENGINE_VARS: [&str; 8] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_ARRAY_TASK_COUNT",
    "JOB_COMPLETION_INDEX",
    "PARALLEL_SEQ",
    "PARALLEL_JOBSLOT",
    "SCALELAB_SHARDS",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `PATH` with the directory of the scalelab binary under test first, so that scripts and
/// the README's lines call it as `scalelab`.
fn path_with_scalelab() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_scalelab")).parent().expect("a directory").to_path_buf();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

/// `bash -c SCRIPT` in `dir`, with scalelab on the PATH, no engine variables and `env`.
fn bash(dir: &Path, script: &str, env: &[(&str, String)]) -> Output {
    let mut c = Command::new("bash");
    c.arg("-c").arg(script).current_dir(dir).env("PATH", path_with_scalelab());
    for v in ENGINE_VARS {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("bash runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The merge of `files` (run in `dir`): its stdout, which must succeed or exit 5.
fn merge_in(dir: &Path, args: &str) -> String {
    let o = bash(dir, &format!("scalelab merge {args}"), &[]);
    assert!(matches!(o.status.code(), Some(0 | 5)), "merge {args}: {}", text(&o.stderr));
    text(&o.stdout)
}

/// GNU parallel, or a failure that says how to install it (never a skip).
fn require_parallel() {
    let ok = Command::new("parallel").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "GNU parallel is needed by tests/deploy.rs and is not on the PATH: install it with \
         `sudo apt-get install -y parallel` (Debian/Ubuntu; `brew install parallel` on macOS, \
         `dnf install parallel` on Fedora); .ci/run installs it"
    );
}

/// The README's GNU parallel block, as written.
fn readme_parallel_block() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let marker = "<!-- gnu-parallel: tests/deploy.rs runs the two lines below -->\n```sh\n";
    let start = readme.find(marker).expect("the README's GNU parallel block") + marker.len();
    let end = start + readme[start..].find("```").expect("the block closes");
    readme[start..end].lines().map(str::to_string).collect()
}

/// The README's one-liner, run as written through real GNU parallel: four slices, merged,
/// print what the same chaos command prints on one machine, byte for byte.
#[test]
fn the_readme_gnu_parallel_one_liner_merges_to_the_single_machine_output() {
    require_parallel();
    let lines = readme_parallel_block();
    let [run, merge] = lines.as_slice() else { panic!("two lines in the README block: {lines:?}") };
    assert!(run.starts_with("seq 4 | parallel ") && run.contains("--shard auto --shards 4"), "{run}");
    assert_eq!(merge, "scalelab merge slice-*.jsonl");
    let dir = common::fresh_dir("readme-parallel");
    std::fs::create_dir_all(&dir).unwrap();
    let o = bash(&dir, run, &[]);
    // Slices that find failing runs exit 5, which parallel counts as failed jobs.
    assert!(o.status.code().is_some_and(|c| c <= 4), "{}", text(&o.stderr));
    for k in 1..=4 {
        let slice = std::fs::read_to_string(dir.join(format!("slice-{k}.jsonl"))).unwrap();
        assert!(slice.contains(&format!("\"shard\":{k},\"shards\":4")), "slice {k}: {slice}");
    }
    let merged = bash(&dir, merge, &[]);
    let start = run.find("scalelab chaos").unwrap();
    let single = run[start..run.find(" --shard auto").unwrap()].to_string();
    let one = bash(&dir, &single, &[]);
    assert_eq!(one.status.code(), merged.status.code(), "{single}");
    assert!(text(&one.stdout).contains("failing"), "{}", text(&one.stderr));
    assert_eq!(text(&merged.stdout), text(&one.stdout), "{single}: merged against one machine");
    assert!(!text(&one.stdout).contains("runs/s"), "the wall-clock rate is on stderr");
}

/// A 4-slice sweep through GNU parallel, and slices beyond the number of runs: the table,
/// `--json` and `--csv` merge to one machine's.
#[test]
fn a_sweep_sliced_through_gnu_parallel_merges_to_the_single_machine_output() {
    require_parallel();
    let dir = common::fresh_dir("sweep-parallel");
    std::fs::create_dir_all(&dir).unwrap();
    let base = "scalelab sweep mm1 --vary arrival_rate=5..8 --seeds 2 --duration 20s --target";
    let sweep = format!("{base} 'mean_ms < 400'");
    // parallel joins its arguments into one shell line: the target is quoted once more.
    let line = format!(
        "seq 4 | parallel --will-cite -j4 {base} \"'mean_ms < 400'\" --shard auto --shards 4 '>' sweep-{{}}.jsonl"
    );
    let o = bash(&dir, &line, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let one = bash(&dir, &sweep, &[]);
    assert!(one.status.success(), "{}", text(&one.stderr));
    assert!(text(&one.stdout).contains("knee"), "{}", text(&one.stdout));
    assert_eq!(merge_in(&dir, "sweep-*.jsonl"), text(&one.stdout));
    for form in ["--json", "--csv"] {
        let one = bash(&dir, &format!("{sweep} {form}"), &[]);
        assert_eq!(merge_in(&dir, &format!("{form} sweep-*.jsonl")), text(&one.stdout), "{form}");
    }
    // Eight runs in twelve slices: four are empty, and the merge is the same.
    for k in 1..=12 {
        let o = bash(&dir, &format!("{sweep} --json --shard {k}/12 > wide-{k}.jsonl"), &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let one = bash(&dir, &format!("{sweep} --json"), &[]);
    assert_eq!(merge_in(&dir, "wide-*.jsonl"), text(&one.stdout));
}

/// Compare sliced with --shard K/3 directly, and through GNU parallel with N from
/// SCALELAB_SHARDS: table, --json (reports included) and --csv merge to one machine's.
#[test]
fn a_comparison_sliced_merges_to_the_single_machine_output() {
    require_parallel();
    let dir = common::fresh_dir("compare-shards");
    std::fs::create_dir_all(&dir).unwrap();
    let compare =
        "scalelab compare lb-algorithms --vary rr.policy=round_robin,least_connections --seeds 2 --duration 20s";
    for k in 1..=3 {
        let o = bash(&dir, &format!("{compare} --shard {k}/3 > direct-{k}.jsonl"), &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let o = bash(
        &dir,
        &format!("seq 3 | parallel --will-cite -j3 {compare} --json --shard auto '>' par-{{}}.jsonl"),
        &[("SCALELAB_SHARDS", "3".into())],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let single = |form: &str| {
        let o = bash(&dir, &format!("{compare} {form}"), &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let table = single("");
    assert!(table.contains("compare rr.policy=round_robin vs rr.policy=least_connections"), "{table}");
    assert_eq!(merge_in(&dir, "direct-*.jsonl"), table);
    assert_eq!(merge_in(&dir, "par-*.jsonl"), single("--json"), "the slices' own form, --json");
    assert_eq!(merge_in(&dir, "--csv direct-*.jsonl"), single("--csv"));
    assert_eq!(merge_in(&dir, "--json direct-*.jsonl"), single("--json"));
    let json: Value = serde_json::from_str(&single("--json")).unwrap();
    let run = &json["runs"][0];
    assert!(run["label"].is_string() && run["wall_seconds"].is_null(), "no wall-clock field in stdout");
}

/// The `#SBATCH --array=A-B` range of the script.
fn sbatch_array(script: &str) -> (u64, u64) {
    let line = script.lines().find_map(|l| l.strip_prefix("#SBATCH --array=")).expect("an #SBATCH --array line");
    let (a, b) = line.trim().split_once('-').expect("--array=A-B");
    (a.parse().unwrap(), b.parse().unwrap())
}

/// The sbatch script parses (bash -n) and, run as each task of its array under a fake
/// Slurm environment, writes slices whose merge is the single-machine output (seed file
/// lines included).
#[test]
fn the_slurm_script_runs_as_an_array_and_its_slices_merge_to_one_machine() {
    let script_path = root().join("deploy/slurm/chaos.sbatch");
    let script = std::fs::read_to_string(&script_path).unwrap();
    let o = Command::new("bash").arg("-n").arg(&script_path).output().unwrap();
    assert!(o.status.success(), "bash -n: {}", text(&o.stderr));
    assert!(script.contains("--shard auto") && script.contains("--dependency=afterok"));
    let (min, max) = sbatch_array(&script);
    assert!(min <= max && max - min < 64, "a small array: {min}-{max}");
    let dir = common::fresh_dir("slurm");
    std::fs::create_dir_all(&dir).unwrap();
    let results = dir.join("results");
    let settings = [
        ("SCENARIO", "cap-weak-quorum".to_string()),
        ("RUNS", "24".into()),
        ("DURATION", "2m".into()),
        ("RESULTS", results.display().to_string()),
        ("SLURM_ARRAY_JOB_ID", "4242".into()),
        ("SLURM_CPUS_PER_TASK", "1".into()),
    ];
    for id in min..=max {
        let mut env = settings.to_vec();
        env.extend([
            ("SLURM_ARRAY_TASK_ID", id.to_string()),
            ("SLURM_ARRAY_TASK_MIN", min.to_string()),
            ("SLURM_ARRAY_TASK_STEP", "1".to_string()),
            ("SLURM_ARRAY_TASK_COUNT", (max - min + 1).to_string()),
        ]);
        let o = bash(&dir, &format!("bash {}", script_path.display()), &env);
        assert!(o.status.success(), "task {id}: {}", text(&o.stderr));
        assert!(results.join(format!("slice-{}.jsonl", id - min + 1)).exists(), "task {id}");
    }
    let merged = bash(&dir, &format!("scalelab merge {}/slice-*.jsonl", results.display()), &[]);
    let single = format!("scalelab chaos cap-weak-quorum --runs 24 --duration 2m --out {}/seeds", results.display());
    let one = bash(&dir, &single, &[]);
    assert_eq!(one.status.code(), Some(5), "cap-weak-quorum fails some runs: {}", text(&one.stderr));
    assert_eq!(merged.status.code(), Some(5));
    assert!(text(&one.stdout).contains("seed file:"), "{}", text(&one.stdout));
    assert_eq!(text(&merged.stdout), text(&one.stdout));
}

fn yaml(path: &str) -> Value {
    let source = std::fs::read_to_string(root().join(path)).unwrap();
    serde_saphyr::from_str::<Value>(&source).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The Job's only container and its shell script (`sh -c SCRIPT`).
fn container(job: &Value) -> (&Value, &str) {
    let containers = job["spec"]["template"]["spec"]["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert!(c["image"].as_str().is_some_and(|i| !i.is_empty()), "an image");
    let command = c["command"].as_array().expect("a command");
    assert_eq!((command[0].as_str(), command[1].as_str()), (Some("sh"), Some("-c")));
    (c, command[2].as_str().expect("a script"))
}

/// The volume mounted at `mount` in `job`'s container: the claim it names.
fn claim_at<'a>(job: &'a Value, c: &Value, mount: &str) -> &'a str {
    let name = c["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["mountPath"] == mount))
        .unwrap_or_else(|| panic!("a volume mounted at {mount}"))["name"]
        .as_str()
        .unwrap();
    let volumes = job["spec"]["template"]["spec"]["volumes"].as_array().expect("volumes");
    let v = volumes.iter().find(|v| v["name"] == name).expect("the mounted volume");
    v["persistentVolumeClaim"]["claimName"].as_str().expect("a PersistentVolumeClaim")
}

/// The manifests parse as YAML and the chaos Job is a valid Indexed Job; then its own
/// script, and the merge Job's, run under a fake Indexed Job (the volume a directory here,
/// the sweep smaller) give the single-machine output.
#[test]
fn the_kubernetes_manifests_are_an_indexed_job_whose_slices_merge_to_one_machine() {
    let job = yaml("deploy/k8s/chaos-indexed-job.yaml");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let completions = spec["completions"].as_u64().expect("completions");
    let parallelism = spec["parallelism"].as_u64().expect("parallelism");
    assert!(1 <= parallelism && parallelism <= completions, "{parallelism} of {completions}");
    assert!(spec["backoffLimitPerIndex"].is_u64() || spec["backoffLimit"].is_u64(), "a backoff limit");
    let restart = spec["template"]["spec"]["restartPolicy"].as_str();
    assert!(matches!(restart, Some("Never" | "OnFailure")), "{restart:?}");
    let (c, script) = container(&job);
    let shards = c["env"]
        .as_array()
        .and_then(|e| e.iter().find(|v| v["name"] == "SCALELAB_SHARDS"))
        .expect("SCALELAB_SHARDS")["value"]
        .as_str()
        .expect("a string value");
    assert_eq!(shards.parse::<u64>().unwrap(), completions, "SCALELAB_SHARDS = completions");
    assert!(script.contains("--shard auto") && script.contains("> /results/slice-"), "{script}");
    let claim = claim_at(&job, c, "/results");
    let pvc = yaml("deploy/k8s/results-pvc.yaml");
    assert_eq!((pvc["kind"].as_str(), pvc["metadata"]["name"].as_str()), (Some("PersistentVolumeClaim"), Some(claim)));
    let merge_job = yaml("deploy/k8s/chaos-merge-job.yaml");
    assert_eq!((merge_job["apiVersion"].as_str(), merge_job["kind"].as_str()), (Some("batch/v1"), Some("Job")));
    let (mc, merge_script) = container(&merge_job);
    assert_eq!(claim_at(&merge_job, mc, "/results"), claim, "the merge reads the slices' volume");

    let dir = common::fresh_dir("k8s");
    let volume = dir.join("results");
    std::fs::create_dir_all(&volume).unwrap();
    let big = "pixelcraft-1m --runs 8000 --duration 2m";
    assert!(script.contains(big), "{script}");
    let local = |s: &str| {
        s.replace("/results", &volume.display().to_string()).replace(big, "cap-weak-quorum --runs 24 --duration 2m")
    };
    for index in 0..completions {
        let env = [("JOB_COMPLETION_INDEX", index.to_string()), ("SCALELAB_SHARDS", shards.to_string())];
        let o = bash(&dir, &local(script), &env);
        assert!(o.status.success(), "index {index}: {}", text(&o.stderr));
    }
    let merged = bash(&dir, &local(merge_script), &[]);
    let single = format!("scalelab chaos cap-weak-quorum --runs 24 --duration 2m --out {}/seeds", volume.display());
    let one = bash(&dir, &single, &[]);
    assert_eq!(one.status.code(), Some(5), "failing runs: {}", text(&one.stderr));
    assert!(
        merged.status.success(),
        "the merge Job succeeds with failing runs in its summary: {}",
        text(&merged.stderr)
    );
    assert_eq!(text(&merged.stdout), text(&one.stdout));
    assert_eq!(std::fs::read_to_string(volume.join("summary.txt")).unwrap(), text(&one.stdout));
}

/// Writes the stdout of `scalelab ARGS` (which must succeed) to `dir/name`.
fn slice(dir: &Path, name: &str, args: &str) -> PathBuf {
    let path = dir.join(name);
    let o = bash(dir, &format!("scalelab {args} > {name}"), &[]);
    assert!(o.status.success(), "{args}: {}", text(&o.stderr));
    path
}

fn refused(dir: &Path, files: &str, what: &[&str]) {
    let o = bash(dir, &format!("scalelab merge {files}"), &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "merge {files}: {err}");
    assert!(o.stdout.is_empty(), "nothing on stdout: {}", text(&o.stdout));
    assert!(!err.contains("panicked"), "{err}");
    for w in what {
        assert!(err.contains(w), "merge {files}: `{w}` in: {err}");
    }
}

/// Merge refuses, through the CLI and naming what is wrong: slices of different commands,
/// arguments or N, a missing slice, a duplicate, a slice cut short, a scenario file changed
/// since, and files that are not slices (name, line, what).
#[test]
fn merge_refuses_slices_that_do_not_make_one_job() {
    let dir = common::fresh_dir("refusals");
    std::fs::create_dir_all(&dir).unwrap();
    let chaos = "chaos mm1 --runs 6 --duration 10s";
    for k in 1..=3 {
        slice(&dir, &format!("c{k}.jsonl"), &format!("{chaos} --shard {k}/3"));
    }
    slice(&dir, "s1.jsonl", "sweep mm1 --vary arrival_rate=5,6 --duration 10s --shard 1/3");
    slice(&dir, "other-runs.jsonl", "chaos mm1 --runs 7 --duration 10s --shard 2/3");
    slice(&dir, "other-n.jsonl", &format!("{chaos} --shard 2/4"));
    refused(&dir, "c1.jsonl s1.jsonl", &["c1.jsonl", "s1.jsonl", "different commands"]);
    refused(&dir, "c1.jsonl other-runs.jsonl c3.jsonl", &["different runs", "--runs 6", "--runs 7"]);
    refused(&dir, "c1.jsonl other-n.jsonl", &["slice 1 of 3", "slice 2 of 4"]);
    refused(&dir, "c1.jsonl c3.jsonl", &["slice 2 of 3 is missing (given: 1, 3)"]);
    refused(&dir, "c1.jsonl", &["slices 2, 3 of 3 are missing"]);
    refused(&dir, "c1.jsonl c2.jsonl c2.jsonl c3.jsonl", &["slice 2/3 is given twice", "c2.jsonl"]);
    let c2 = std::fs::read_to_string(dir.join("c2.jsonl")).unwrap();
    let short: Vec<&str> = c2.lines().collect();
    std::fs::write(dir.join("short.jsonl"), short[..short.len() - 1].join("\n")).unwrap();
    refused(&dir, "c1.jsonl short.jsonl c3.jsonl", &["short.jsonl", "holds 1 of its 2 runs"]);
    std::fs::write(dir.join("bad-run.jsonl"), format!("{}\n{{\"unit\": 2, \"run\": 7}}\n", short[0])).unwrap();
    refused(&dir, "c1.jsonl bad-run.jsonl c3.jsonl", &["bad-run.jsonl:2", "not a run of a `chaos` slice"]);
    std::fs::write(dir.join("garbage.jsonl"), "run 1 failed: oops\n").unwrap();
    refused(&dir, "c1.jsonl garbage.jsonl", &["garbage.jsonl:1", "not a slice", "run 1 failed"]);
    std::fs::write(dir.join("empty.jsonl"), "").unwrap();
    refused(&dir, "empty.jsonl", &["empty.jsonl", "empty, not a slice"]);
    std::fs::write(dir.join("binary.jsonl"), [0xff, 0xfe, 0x00, b'\n']).unwrap();
    refused(&dir, "binary.jsonl", &["binary.jsonl:1", "not a slice"]);
    refused(&dir, "c1.jsonl nowhere.jsonl", &["nowhere.jsonl"]);
    // A scenario file edited between the slices, and after all of them.
    std::fs::copy(root().join("tests/chaos/spike-sheds-and-recovers.toml"), dir.join("s.toml")).unwrap();
    let sweep = "sweep s.toml --vary web.workers=8,10 --duration 20s";
    slice(&dir, "e1.jsonl", &format!("{sweep} --shard 1/2"));
    let edited = std::fs::read_to_string(dir.join("s.toml")).unwrap() + "\n# edited\n";
    std::fs::write(dir.join("s.toml"), edited).unwrap();
    slice(&dir, "e2.jsonl", &format!("{sweep} --shard 2/2"));
    refused(&dir, "e1.jsonl e2.jsonl", &["different scenario texts"]);
    slice(&dir, "e1.jsonl", &format!("{sweep} --shard 1/2"));
    std::fs::write(dir.join("s.toml"), std::fs::read_to_string(dir.join("s.toml")).unwrap() + "# again\n").unwrap();
    refused(&dir, "e1.jsonl e2.jsonl", &["scenario text differs", "changed"]);
}

/// `--shard auto` outside any engine, or with an engine and no N, says which variables it
/// read and exits 2, as a malformed command line does; so do bad --shard values.
#[test]
fn shard_auto_without_an_engine_names_the_variables_and_exits_2() {
    let dir = common::scratch("auto");
    let dir = dir.parent().unwrap();
    let o = bash(dir, "scalelab chaos mm1 --runs 4 --shard auto", &[]);
    assert_eq!(o.status.code(), Some(2));
    for var in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "PARALLEL_SEQ", "--shard K/N"] {
        assert!(text(&o.stderr).contains(var), "{var}: {}", text(&o.stderr));
    }
    let o =
        bash(dir, "scalelab sweep mm1 --vary arrival_rate=5,6 --shard auto", &[("JOB_COMPLETION_INDEX", "0".into())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--shards N or set SCALELAB_SHARDS"), "{}", text(&o.stderr));
    let o = bash(dir, "scalelab compare mm1 mm1 --shard 5/4", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("expected K/N"), "{}", text(&o.stderr));
    let o = bash(dir, "scalelab compare mm1 mm1 --svg x.svg --shard 1/2", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--svg"), "{}", text(&o.stderr));
}
