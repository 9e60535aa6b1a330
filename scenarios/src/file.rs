//! Stage one of parsing: a serde mirror of the TOML file, with source spans on everything
//! a later error may need to point at. Unknown keys are refused here, except inside a
//! component table, whose allowed keys depend on its `kind` (checked in stage two).

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::{Spanned, Value};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Spanned<String>,
    pub title: Spanned<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub lesson: String,
    #[serde(default)]
    pub watch: Vec<String>,
    #[serde(default)]
    pub params: BTreeMap<Spanned<String>, ParamFile>,
    pub run: RunFile,
    pub workload: WorkloadFile,
    #[serde(default)]
    pub components: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
    #[serde(default)]
    pub links: Vec<LinkFile>,
    pub classes: Vec<ClassFile>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ParamFile {
    pub default: Spanned<Value>,
    #[serde(default)]
    pub unit: Option<Spanned<String>>,
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    pub duration: Spanned<Value>,
    #[serde(default)]
    pub warmup: Option<Spanned<Value>>,
    #[serde(default)]
    pub seed: Option<u64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    pub arrival: Spanned<String>,
    #[serde(default)]
    pub rate: Option<Spanned<Value>>,
    #[serde(default)]
    pub users: Option<Spanned<Value>>,
    #[serde(default)]
    pub think: Option<Spanned<Value>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct LinkFile {
    pub between: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub latency: Option<Spanned<Value>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ClassFile {
    pub name: Spanned<String>,
    #[serde(default)]
    pub weight: Option<Spanned<Value>>,
    pub path: Spanned<Vec<Spanned<String>>>,
    /// Per-component service-time overrides for this class: `{ web = "exp(30ms)" }`.
    #[serde(default)]
    pub service: BTreeMap<Spanned<String>, Spanned<Value>>,
}
