//! The integration tests, one module per area, built into one test binary so the
//! dependency graph links once (CI time is a budget). Run one area with
//! `cargo test --test it <module>::`; the shared harness is in `common/`.

mod common;

mod add;
mod check;
mod checkout;
mod checkout_killed;
mod config_and_bare;
mod config_schema;
mod docs;
mod dvc_side_by_side;
mod fetch;
mod formats;
mod hardening_concurrency;
mod hardening_faults;
mod hardening_input;
mod hardening_network;
mod hook_managers;
mod hooks_checkout;
mod hooks_diff;
mod hooks_install;
mod hooks_pre_push;
mod hooks_pre_receive;
mod hooks_pre_receive_s3;
mod install;
mod integrity;
mod interrupted;
mod parsed_cache;
mod pipeline_templates;
mod push_equivalence;
mod remote_azure;
mod remote_gcs;
mod remote_http;
mod remote_option_table;
mod remote_options;
mod remote_s3;
mod remote_s3_profiles;
mod remote_ssh;
mod remote_ssh_config;
mod remote_trust;
mod remote_webdav;
mod run_cache;
mod security_inputs;
mod selection;
mod servers;
mod status_cloud;
mod subdir_project;
mod summary_and_errors;
mod targets_like_dvc;
