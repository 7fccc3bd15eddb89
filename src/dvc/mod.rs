//! DVC's formats and local state: `.dvc` files, `dvc.yaml`/`dvc.lock`, `.dir` manifests,
//! configuration, hashes and the cache. Nothing here knows git.

pub mod cache;
pub mod cache_leftovers;
pub mod cache_presence;
pub mod cache_writer;
pub mod config;
pub mod config_schema;
pub mod configobj;
pub mod dir_manifest;
pub mod dir_modes;
pub mod dvcfile;
pub mod dvcfile_writer;
pub mod hash;
pub mod interpolate;
pub mod output;
pub mod pipeline;
pub mod repo_lock;
pub mod run_cache;
pub mod stage_deps;
pub mod yaml;
pub mod yaml_emit;
pub mod yaml_tags;
